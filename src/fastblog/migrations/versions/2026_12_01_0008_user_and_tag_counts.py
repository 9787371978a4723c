"""per-user and per-tag counts of published posts, kept by triggers; post_tags.published_at

A user's page and a tag's page show how many posts they have; counting them on every view
costs O(posts of that user or tag). These counters follow every write in its own transaction,
the way post_counts does for the site (migrations 0005 and 0006): inserts, deletes (one post,
or a user's posts by cascade), publishing or taking back to draft, tagging and untagging. Like
post_counts they count published posts; a reader's total subtracts the few scheduled ones whose
time has not come (fastblog.posts.queries).

post_tags gets a copy of its post's published_at, kept by triggers (filled in when a row is
inserted without it, followed when the post's changes), and an index on (tag_id, published_at,
post_id): a tag's page is then an index range from its cursor instead of a sort of the tag's
posts.

Revision ID: c9903608ef76
Revises: 921ab725de2d
Create Date: 2026-12-01 19:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c9903608ef76"
down_revision: str | None = "921ab725de2d"  # main's head (0012) when this was rebased
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SLOTS = 8  # fastblog.posts.models.COUNT_SLOTS
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)
USER_UPSERT = "ON CONFLICT (user_id, slot) DO UPDATE SET posts = user_post_counts.posts"
TAG_UPSERT = "ON CONFLICT (tag_id, slot) DO UPDATE SET posts = tag_post_counts.posts"

# SQLite: row triggers. A post's tags are gone (ON DELETE CASCADE) by the time its AFTER
# DELETE trigger runs, so its tags are uncounted BEFORE the delete; the cascade's own deletes
# from post_tags then find no post and change nothing. (An INSERT … SELECT upsert needs a
# WHERE in SQLite, so the parser can tell ON CONFLICT from a join's ON.)
SQLITE_TRIGGERS = [
    """
    CREATE TRIGGER post_tags_take_published_at AFTER INSERT ON post_tags
    WHEN NEW.published_at IS NULL BEGIN
      UPDATE post_tags SET published_at = (SELECT published_at FROM posts WHERE id = NEW.post_id)
      WHERE post_id = NEW.post_id AND tag_id = NEW.tag_id;
    END
    """,
    """
    CREATE TRIGGER post_tags_follow_published_at AFTER UPDATE OF published_at ON posts
    WHEN OLD.published_at IS NOT NEW.published_at BEGIN
      UPDATE post_tags SET published_at = NEW.published_at WHERE post_id = NEW.id;
    END
    """,
    f"""
    CREATE TRIGGER user_posts_counted_on_insert AFTER INSERT ON posts
    WHEN NEW.status = 'published' BEGIN
      INSERT INTO user_post_counts (user_id, slot, posts) VALUES (NEW.user_id, NEW.id % {SLOTS}, 1)
      {USER_UPSERT} + 1;
    END
    """,
    f"""
    CREATE TRIGGER user_posts_counted_on_delete AFTER DELETE ON posts
    WHEN OLD.status = 'published' BEGIN
      INSERT INTO user_post_counts (user_id, slot, posts) VALUES (OLD.user_id, OLD.id % {SLOTS}, -1)
      {USER_UPSERT} - 1;
    END
    """,
    f"""
    CREATE TRIGGER tag_posts_counted_on_delete BEFORE DELETE ON posts
    WHEN OLD.status = 'published' BEGIN
      INSERT INTO tag_post_counts (tag_id, slot, posts)
      SELECT tag_id, OLD.id % {SLOTS}, -1 FROM post_tags WHERE post_id = OLD.id
      {TAG_UPSERT} - 1;
    END
    """,
    f"""
    CREATE TRIGGER user_and_tag_posts_counted_on_status AFTER UPDATE OF status ON posts
    WHEN OLD.status <> NEW.status BEGIN
      INSERT INTO user_post_counts (user_id, slot, posts)
      VALUES (NEW.user_id, NEW.id % {SLOTS}, CASE WHEN NEW.status = 'published' THEN 1 ELSE -1 END)
      {USER_UPSERT} + excluded.posts;
      INSERT INTO tag_post_counts (tag_id, slot, posts)
      SELECT tag_id, NEW.id % {SLOTS}, CASE WHEN NEW.status = 'published' THEN 1 ELSE -1 END
      FROM post_tags WHERE post_id = NEW.id
      {TAG_UPSERT} + excluded.posts;
    END
    """,
    f"""
    CREATE TRIGGER tag_posts_counted_on_tagging AFTER INSERT ON post_tags BEGIN
      INSERT INTO tag_post_counts (tag_id, slot, posts)
      SELECT NEW.tag_id, NEW.post_id % {SLOTS}, 1 FROM posts
      WHERE id = NEW.post_id AND status = 'published'
      {TAG_UPSERT} + 1;
    END
    """,
    f"""
    CREATE TRIGGER tag_posts_counted_on_untagging AFTER DELETE ON post_tags BEGIN
      INSERT INTO tag_post_counts (tag_id, slot, posts)
      SELECT OLD.tag_id, OLD.post_id % {SLOTS}, -1 FROM posts
      WHERE id = OLD.post_id AND status = 'published'
      {TAG_UPSERT} - 1;
    END
    """,
]

# PostgreSQL: statement triggers with transition tables (a bulk insert updates each counter row
# once), upserts in key order. Every writer locks counter rows in one order, the site's
# (post_counts) row, then the user's, then the tags' (by tag id), so two transactions cannot
# deadlock on them: a new post counts the site and its author on INSERT (0006's trigger's name
# sorts first), then its tags (fastblog.posts.service inserts them by tag id);
# an edit locks what it will change first (service.lock_counters); a deleted post is uncounted
# by one row trigger, author then tags, BEFORE the delete (as on SQLite: by the time an AFTER
# trigger runs, the cascade has removed the post's tags).
POSTGRES_TRIGGERS = [
    """
    CREATE FUNCTION post_tags_take_published_at() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      NEW.published_at := (SELECT published_at FROM posts WHERE id = NEW.post_id);
      RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER post_tags_take_published_at BEFORE INSERT ON post_tags
    FOR EACH ROW WHEN (NEW.published_at IS NULL) EXECUTE FUNCTION post_tags_take_published_at()
    """,
    """
    CREATE FUNCTION post_tags_follow_published_at() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE post_tags SET published_at = new_rows.published_at
      FROM new_rows JOIN old_rows USING (id)
      WHERE post_tags.post_id = new_rows.id
        AND new_rows.published_at IS DISTINCT FROM old_rows.published_at;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER post_tags_follow_published_at AFTER UPDATE ON posts
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION post_tags_follow_published_at()
    """,
    f"""
    CREATE FUNCTION user_posts_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO user_post_counts (user_id, slot, posts)
      SELECT user_id, id % {SLOTS}, count(*)
      FROM changed WHERE status = 'published' GROUP BY 1, 2 ORDER BY 1, 2
      {USER_UPSERT} + EXCLUDED.posts;
      RETURN NULL;
    END $$
    """,
    f"""
    CREATE FUNCTION user_and_tag_posts_count_status_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      -- Every UPDATE of posts comes here; only a change of status changes a count (a post
      -- whose status stayed adds +1 and -1 to the same rows, which cancel out).
      IF NOT EXISTS (
        SELECT 1 FROM new_rows JOIN old_rows USING (id) WHERE new_rows.status <> old_rows.status
      ) THEN
        RETURN NULL;
      END IF;
      INSERT INTO user_post_counts (user_id, slot, posts)
      SELECT user_id, slot, sum(change) FROM (
        SELECT user_id, id % {SLOTS} AS slot, 1 AS change FROM new_rows WHERE status = 'published'
        UNION ALL
        SELECT user_id, id % {SLOTS}, -1 FROM old_rows WHERE status = 'published'
      ) AS changes
      GROUP BY 1, 2 HAVING sum(change) <> 0 ORDER BY 1, 2
      {USER_UPSERT} + EXCLUDED.posts;
      INSERT INTO tag_post_counts (tag_id, slot, posts)
      SELECT post_tags.tag_id, changes.id % {SLOTS}, sum(change) FROM (
        SELECT id, 1 AS change FROM new_rows WHERE status = 'published'
        UNION ALL
        SELECT id, -1 FROM old_rows WHERE status = 'published'
      ) AS changes
      JOIN post_tags ON post_tags.post_id = changes.id
      GROUP BY 1, 2 HAVING sum(change) <> 0 ORDER BY 1, 2
      {TAG_UPSERT} + EXCLUDED.posts;
      RETURN NULL;
    END $$
    """,
    f"""
    CREATE FUNCTION posts_uncount_deleted_post() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      -- The site's counter row first (migration 0006's AFTER trigger changes it), as a new
      -- post locks it first: its INSERT trigger runs before this migration's.
      PERFORM 1 FROM post_counts WHERE slot = OLD.id % {SLOTS} FOR UPDATE;
      INSERT INTO user_post_counts (user_id, slot, posts)
      VALUES (OLD.user_id, OLD.id % {SLOTS}, -1)
      {USER_UPSERT} + EXCLUDED.posts;
      INSERT INTO tag_post_counts (tag_id, slot, posts)
      SELECT tag_id, OLD.id % {SLOTS}, -1 FROM post_tags WHERE post_id = OLD.id ORDER BY 1
      {TAG_UPSERT} + EXCLUDED.posts;
      RETURN OLD;
    END $$
    """,
    f"""
    CREATE FUNCTION tag_posts_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      -- Only posts that still exist: a deleted post's tags were uncounted before it went.
      INSERT INTO tag_post_counts (tag_id, slot, posts)
      SELECT changed.tag_id, changed.post_id % {SLOTS},
             CASE WHEN TG_OP = 'INSERT' THEN count(*) ELSE -count(*) END
      FROM changed JOIN posts ON posts.id = changed.post_id
      WHERE posts.status = 'published' GROUP BY 1, 2 ORDER BY 1, 2
      {TAG_UPSERT} + EXCLUDED.posts;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER user_posts_counted_on_insert AFTER INSERT ON posts
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION user_posts_count_change()
    """,
    """
    CREATE TRIGGER posts_counted_on_delete_by_user_and_tag BEFORE DELETE ON posts
    FOR EACH ROW WHEN (OLD.status = 'published')
    EXECUTE FUNCTION posts_uncount_deleted_post()
    """,
    """
    CREATE TRIGGER user_and_tag_posts_counted_on_status AFTER UPDATE ON posts
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION user_and_tag_posts_count_status_change()
    """,
    """
    CREATE TRIGGER tag_posts_counted_on_tagging AFTER INSERT ON post_tags
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION tag_posts_count_change()
    """,
    """
    CREATE TRIGGER tag_posts_counted_on_untagging AFTER DELETE ON post_tags
    REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION tag_posts_count_change()
    """,
]

TRIGGERS = {
    "post_tags_take_published_at": "post_tags",
    "post_tags_follow_published_at": "posts",
    "user_posts_counted_on_insert": "posts",
    "user_posts_counted_on_delete": "posts",  # SQLite
    "tag_posts_counted_on_delete": "posts",  # SQLite
    "posts_counted_on_delete_by_user_and_tag": "posts",  # PostgreSQL
    "user_and_tag_posts_counted_on_status": "posts",
    "tag_posts_counted_on_tagging": "post_tags",
    "tag_posts_counted_on_untagging": "post_tags",
}
FUNCTIONS = [
    "post_tags_take_published_at",
    "post_tags_follow_published_at",
    "user_posts_count_change",
    "user_and_tag_posts_count_status_change",
    "posts_uncount_deleted_post",
    "tag_posts_count_change",
]


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _counter_table(name: str, key: str) -> None:
    op.create_table(
        name,
        sa.Column(key, BIG_ID, autoincrement=False, nullable=False),
        sa.Column("slot", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("posts", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(key, "slot", name=op.f(f"pk_{name}")),
    )


def _copy_published_at() -> None:
    op.add_column("post_tags", sa.Column("published_at", TIME, nullable=True))
    if _is_sqlite():
        op.execute(
            "UPDATE post_tags SET published_at = "
            "(SELECT published_at FROM posts WHERE posts.id = post_tags.post_id)"
        )
    else:
        op.execute(
            "UPDATE post_tags SET published_at = posts.published_at "
            "FROM posts WHERE posts.id = post_tags.post_id"
        )
    op.create_index(
        "ix_post_tags_tag_id_published_at_post_id",
        "post_tags",
        ["tag_id", "published_at", "post_id"],
    )


def upgrade() -> None:
    _copy_published_at()
    _counter_table("user_post_counts", "user_id")
    _counter_table("tag_post_counts", "tag_id")
    op.execute(
        f"INSERT INTO user_post_counts (user_id, slot, posts) "
        f"SELECT user_id, id % {SLOTS}, count(*) FROM posts WHERE status = 'published' "
        f"GROUP BY user_id, id % {SLOTS}"
    )
    op.execute(
        f"INSERT INTO tag_post_counts (tag_id, slot, posts) "
        f"SELECT post_tags.tag_id, post_tags.post_id % {SLOTS}, count(*) FROM post_tags "
        f"JOIN posts ON posts.id = post_tags.post_id WHERE posts.status = 'published' "
        f"GROUP BY post_tags.tag_id, post_tags.post_id % {SLOTS}"
    )
    for statement in SQLITE_TRIGGERS if _is_sqlite() else POSTGRES_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    sqlite = _is_sqlite()
    for trigger, table in TRIGGERS.items():
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}" + ("" if sqlite else f" ON {table}"))
    if not sqlite:
        for function in FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    op.drop_table("tag_post_counts")
    op.drop_table("user_post_counts")
    op.drop_index("ix_post_tags_tag_id_published_at_post_id", table_name="post_tags")
    op.drop_column("post_tags", "published_at")
