"""scheduled_post_counts, scheduled_tag_post_counts: published posts ahead of now, per UTC day

Every list's total is its trigger-kept counter (post_counts, tag_post_counts: published
posts) less the published posts whose time has not come. Those were counted on every list, an
index range over every scheduled post: at a million posts, 2,928 of them (a tag like `python`
~1,000), which on PostgreSQL cost 2,148 buffer hits and ~0.5 ms of server CPU per list. These
tables keep, for each UTC day, how many published posts with that day's published_at were in
the future when last written, so a list reads one row per future day and counts only today's
remaining posts by the index (fastblog.posts.queries).

The rule, kept by triggers on every INSERT, UPDATE and DELETE (posts for the site's table,
post_tags and its copy of published_at for a tag's): +1 on the new row's day when its
published_at is after now (the database's clock at the write), -1 on the old row's day when
its published_at was after now. A draft has no published_at (the status check constraint),
so "published_at after now" is "published and scheduled".

Why a day after today is exact: every post of that day had its published_at after now at
each of its writes so far (now has not reached that day yet), so each write counted it out
of its old state and into its new one. A day already past may be off (a post whose time came
between two writes was counted in and not out): its row is never read again.

What a write costs: a post scheduled, rescheduled, unpublished or deleted while scheduled
upserts one row per day it leaves or joins (and one per tag and day); a post published now,
and any write to a post already out, touches nothing new (the triggers' WHEN is false).

Lock order on PostgreSQL (fastblog.posts.service.lock_counters): the day rows first, then
the counters of migrations 0005-0023 (site, author, tags, author with tags), then the
tags' day rows last. posts' row triggers fire before its statement triggers (an AFTER ROW
event is queued before the statement's), and BEFORE DELETE row triggers fire in name order,
so posts_ahead_counted_on_delete runs before posts_counted_on_delete_by_user_and_tag;
post_tags' statement triggers fire in name order, so waiting_tag_posts_counted_* run after
0008's and 0023's.

Revision ID: 8bab44cf14aa
Revises: a9f8bd68db5f
Create Date: 2026-12-07 19:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8bab44cf14aa"
down_revision: str | None = "a9f8bd68db5f"  # tag count versions (0029)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# SQLite keeps published_at as UTC text, 'YYYY-MM-DD HH:MM:SS.ffffff' (fastblog.db.UTCDateTime
# through SQLAlchemy's DateTime), so now in that format compares as text, and the day is the
# first ten characters (what SQLAlchemy's Date stores).
SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f000', 'now')"
SQLITE_DAY = "substr({row}.published_at, 1, 10)"
POSTGRES_DAY = "({row}.published_at AT TIME ZONE 'UTC')::date"

SITE_UPSERT = "ON CONFLICT (day) DO UPDATE SET posts = scheduled_post_counts.posts + excluded.posts"
TAG_UPSERT = (
    "ON CONFLICT (tag_id, day) DO UPDATE"
    " SET posts = scheduled_tag_post_counts.posts + excluded.posts"
)


def _sqlite_change(table: str, row: str, change: int) -> str:
    """One upsert of a trigger body: `row`'s day (and tag) by `change`, if it is ahead."""
    key, upsert = ("", SITE_UPSERT) if table == "posts" else (f"{row}.tag_id, ", TAG_UPSERT)
    target = (
        "scheduled_post_counts (day, posts)"
        if table == "posts"
        else "scheduled_tag_post_counts (tag_id, day, posts)"
    )
    # (An INSERT … SELECT upsert needs a WHERE in SQLite, which this one has anyway.)
    return (
        f"INSERT INTO {target} SELECT {key}{SQLITE_DAY.format(row=row)}, {change}"
        f" WHERE {row}.published_at > {SQLITE_NOW} {upsert};"
    )


def _sqlite_triggers(table: str, prefix: str) -> list[str]:
    moved = (
        f"OLD.published_at IS NOT NEW.published_at"
        f" AND (OLD.published_at > {SQLITE_NOW} OR NEW.published_at > {SQLITE_NOW})"
    )
    return [
        f"""
        CREATE TRIGGER {prefix}_on_insert AFTER INSERT ON {table}
        WHEN NEW.published_at > {SQLITE_NOW} BEGIN
          {_sqlite_change(table, "NEW", 1)}
        END
        """,
        f"""
        CREATE TRIGGER {prefix}_on_update AFTER UPDATE OF published_at ON {table}
        WHEN {moved} BEGIN
          {_sqlite_change(table, "OLD", -1)}
          {_sqlite_change(table, "NEW", 1)}
        END
        """,
        f"""
        CREATE TRIGGER {prefix}_on_delete AFTER DELETE ON {table}
        WHEN OLD.published_at > {SQLITE_NOW} BEGIN
          {_sqlite_change(table, "OLD", -1)}
        END
        """,
    ]


# SQLite: row triggers. post_tags' copy of published_at is filled in by an UPDATE when a row
# is inserted without it (migration 0023's trigger), which the UPDATE trigger counts.
SQLITE_TRIGGERS = [
    *_sqlite_triggers("posts", "posts_ahead_counted"),
    *_sqlite_triggers("post_tags", "waiting_tag_posts_counted"),
]

# PostgreSQL, posts: row triggers, whose WHEN leaves out every write that is not a scheduled
# post's (a post published now, a like, a comment count) before any function runs. The old
# and the new day in one upsert, in day order.
POSTGRES_DAY_CHANGES = f"""
  SELECT day, sum(change) AS change FROM (
    SELECT {POSTGRES_DAY.format(row="NEW")} AS day, 1 AS change
    WHERE TG_OP <> 'DELETE' AND NEW.published_at > now()
    UNION ALL
    SELECT {POSTGRES_DAY.format(row="OLD")}, -1
    WHERE TG_OP <> 'INSERT' AND OLD.published_at > now()
  ) AS changes
  GROUP BY day HAVING sum(change) <> 0 ORDER BY day
"""
# post_tags: statement triggers with transition tables (a post's tags come in one INSERT,
# its rescheduling as one UPDATE by migration 0008's trigger), in (tag, day) order.
POSTGRES_TAG_DAY_CHANGES = {
    "INSERT": f"""
      SELECT tag_id, {POSTGRES_DAY.format(row="new_rows")}, count(*) FROM new_rows
      WHERE published_at > now() GROUP BY 1, 2 ORDER BY 1, 2
    """,
    "DELETE": f"""
      SELECT tag_id, {POSTGRES_DAY.format(row="old_rows")}, -count(*) FROM old_rows
      WHERE published_at > now() GROUP BY 1, 2 ORDER BY 1, 2
    """,
    "UPDATE": f"""
      SELECT tag_id, day, sum(change) FROM (
        SELECT tag_id, {POSTGRES_DAY.format(row="new_rows")} AS day, 1 AS change FROM new_rows
        WHERE published_at > now()
        UNION ALL
        SELECT tag_id, {POSTGRES_DAY.format(row="old_rows")}, -1 FROM old_rows
        WHERE published_at > now()
      ) AS changes
      GROUP BY 1, 2 HAVING sum(change) <> 0 ORDER BY 1, 2
    """,
}
POSTGRES_TRIGGERS = [
    f"""
    CREATE FUNCTION scheduled_posts_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO scheduled_post_counts (day, posts) {POSTGRES_DAY_CHANGES} {SITE_UPSERT};
      IF TG_OP = 'DELETE' THEN
        RETURN OLD;  -- a BEFORE trigger: the delete goes ahead
      END IF;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER posts_ahead_counted_on_insert AFTER INSERT ON posts
    FOR EACH ROW WHEN (NEW.published_at > now())
    EXECUTE FUNCTION scheduled_posts_count_change()
    """,
    """
    CREATE TRIGGER posts_ahead_counted_on_update AFTER UPDATE OF published_at ON posts
    FOR EACH ROW WHEN (
      OLD.published_at IS DISTINCT FROM NEW.published_at
      AND (OLD.published_at > now() OR NEW.published_at > now())
    )
    EXECUTE FUNCTION scheduled_posts_count_change()
    """,
    # BEFORE, as migration 0008's uncounting: the day row is locked before the site's.
    """
    CREATE TRIGGER posts_ahead_counted_on_delete BEFORE DELETE ON posts
    FOR EACH ROW WHEN (OLD.published_at > now())
    EXECUTE FUNCTION scheduled_posts_count_change()
    """,
    f"""
    CREATE FUNCTION scheduled_tag_posts_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      -- A transition table exists only for the events that have it: each branch names its own.
      IF TG_OP = 'INSERT' THEN
        INSERT INTO scheduled_tag_post_counts (tag_id, day, posts)
        {POSTGRES_TAG_DAY_CHANGES["INSERT"]} {TAG_UPSERT};
      ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO scheduled_tag_post_counts (tag_id, day, posts)
        {POSTGRES_TAG_DAY_CHANGES["DELETE"]} {TAG_UPSERT};
      ELSE
        INSERT INTO scheduled_tag_post_counts (tag_id, day, posts)
        {POSTGRES_TAG_DAY_CHANGES["UPDATE"]} {TAG_UPSERT};
      END IF;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER waiting_tag_posts_counted_on_insert AFTER INSERT ON post_tags
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION scheduled_tag_posts_count_change()
    """,
    """
    CREATE TRIGGER waiting_tag_posts_counted_on_update AFTER UPDATE ON post_tags
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION scheduled_tag_posts_count_change()
    """,
    """
    CREATE TRIGGER waiting_tag_posts_counted_on_delete AFTER DELETE ON post_tags
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION scheduled_tag_posts_count_change()
    """,
]

TRIGGERS = {
    **{f"posts_ahead_counted_on_{event}": "posts" for event in ("insert", "update", "delete")},
    **{
        f"waiting_tag_posts_counted_on_{event}": "post_tags"
        for event in ("insert", "update", "delete")
    },
}
FUNCTIONS = ["scheduled_posts_count_change", "scheduled_tag_posts_count_change"]


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _fill() -> None:
    """The posts ahead now, counted from the rows (the triggers count the writes after). In
    key order: a tag's days side by side in the table, so a tag's total reads a page or two
    of it (in hash order, `python`'s 30 days ahead were on 14 pages at a million posts)."""
    sqlite = _is_sqlite()
    now = SQLITE_NOW if sqlite else "now()"
    day = SQLITE_DAY if sqlite else POSTGRES_DAY
    op.execute(
        f"INSERT INTO scheduled_post_counts (day, posts) "
        f"SELECT {day.format(row='posts')}, count(*) FROM posts "
        f"WHERE posts.published_at > {now} GROUP BY 1 ORDER BY 1"
    )
    op.execute(
        f"INSERT INTO scheduled_tag_post_counts (tag_id, day, posts) "
        f"SELECT post_tags.tag_id, {day.format(row='post_tags')}, count(*) FROM post_tags "
        f"WHERE post_tags.published_at > {now} GROUP BY 1, 2 ORDER BY 1, 2"
    )


def upgrade() -> None:
    op.create_table(
        "scheduled_post_counts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("posts", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_scheduled_post_counts")),
    )
    op.create_table(
        "scheduled_tag_post_counts",
        sa.Column("tag_id", BIG_ID, autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("posts", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tag_id", "day", name=op.f("pk_scheduled_tag_post_counts")),
    )
    _fill()
    for statement in SQLITE_TRIGGERS if _is_sqlite() else POSTGRES_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    sqlite = _is_sqlite()
    for trigger, table in TRIGGERS.items():
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}" + ("" if sqlite else f" ON {table}"))
    if not sqlite:
        for function in FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    op.drop_table("scheduled_tag_post_counts")
    op.drop_table("scheduled_post_counts")
