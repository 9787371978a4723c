"""a user's posts with a tag: post_tags.user_id, its index, and per-user-and-tag counters

`/api/users/{id}/posts?tag=…` walked the author's posts newest first and probed post_tags for
each: for an author with 65,000 posts at a million and a common tag, 0.4 s a page, and its
total counted them all. post_tags gets a copy of its post's author (a post never changes
author), an index on (user_id, tag_id, published_at, post_id), so the page is an index range
from its cursor as a tag's page is, and user_tag_post_counts, so the total is a read of a
few counter rows (less the author's scheduled posts with the tag: a range of the same index).

The counters count post_tags rows with a published_at (a published post's: the posts check
constraint) and an author, so triggers on post_tags alone keep them: tagging and untagging,
a post's deletion (its post_tags rows go by cascade, each with its copy of published_at), and
publishing or taking back to draft (migration 0008's trigger copies the new published_at to
post_tags). A post scheduled for later is counted from the start, as every counter is; the
reader subtracts the scheduled ones whose time has not come.

Revision ID: 4e8d2b7c1a90
Revises: 9e4a7c2b5d13
Create Date: 2026-12-06 11:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4e8d2b7c1a90"
down_revision: str | None = "9e4a7c2b5d13"  # deliveries outlive their author (0022)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SLOTS = 8  # fastblog.posts.models.COUNT_SLOTS
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
INDEX = "ix_post_tags_user_id_tag_id_published_at_post_id"
UPSERT = (
    "ON CONFLICT (user_id, tag_id, slot) DO UPDATE SET posts = user_tag_post_counts.posts"
    " + excluded.posts"
)
# A row that counts: its post is published and its author known.
COUNTED = "{row}.published_at IS NOT NULL AND {row}.user_id IS NOT NULL"

# SQLite: post_tags' copies are filled in by an AFTER INSERT trigger's UPDATE (a trigger
# cannot change NEW), so a row may be counted by its INSERT (written with both copies, as
# the seed does) or by the UPDATE that fills them: each row counts once either way.
SQLITE_TRIGGERS = [
    "DROP TRIGGER post_tags_take_published_at",
    """
    CREATE TRIGGER post_tags_take_published_at AFTER INSERT ON post_tags
    WHEN NEW.published_at IS NULL OR NEW.user_id IS NULL BEGIN
      UPDATE post_tags SET
        published_at = coalesce(
          NEW.published_at, (SELECT published_at FROM posts WHERE id = NEW.post_id)),
        user_id = coalesce(NEW.user_id, (SELECT user_id FROM posts WHERE id = NEW.post_id))
      WHERE post_id = NEW.post_id AND tag_id = NEW.tag_id;
    END
    """,
    f"""
    CREATE TRIGGER user_tag_posts_counted_on_tagging AFTER INSERT ON post_tags
    WHEN {COUNTED.format(row="NEW")} BEGIN
      INSERT INTO user_tag_post_counts (user_id, tag_id, slot, posts)
      VALUES (NEW.user_id, NEW.tag_id, NEW.post_id % {SLOTS}, 1) {UPSERT};
    END
    """,
    f"""
    CREATE TRIGGER user_tag_posts_counted_on_untagging AFTER DELETE ON post_tags
    WHEN {COUNTED.format(row="OLD")} BEGIN
      INSERT INTO user_tag_post_counts (user_id, tag_id, slot, posts)
      VALUES (OLD.user_id, OLD.tag_id, OLD.post_id % {SLOTS}, -1) {UPSERT};
    END
    """,
    f"""
    CREATE TRIGGER user_tag_posts_counted_on_change AFTER UPDATE ON post_tags
    WHEN ({COUNTED.format(row="OLD")}) IS NOT ({COUNTED.format(row="NEW")}) BEGIN
      INSERT INTO user_tag_post_counts (user_id, tag_id, slot, posts)
      SELECT coalesce(NEW.user_id, OLD.user_id), NEW.tag_id, NEW.post_id % {SLOTS},
             CASE WHEN {COUNTED.format(row="NEW")} THEN 1 ELSE -1 END
      WHERE true {UPSERT};
    END
    """,
]

# PostgreSQL: the copies are filled in BEFORE INSERT; the counters by statement triggers with
# transition tables (a bulk change updates each counter row once), upserts in key order. They
# fire after migration 0008's on the same statement (by name), and an edit locks these rows
# after the tags' (fastblog.posts.service.lock_counters): the one lock order of every writer.
POSTGRES_TRIGGERS = [
    """
    CREATE OR REPLACE FUNCTION post_tags_take_published_at() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
      post record;
    BEGIN
      SELECT published_at, user_id INTO post FROM posts WHERE id = NEW.post_id;
      NEW.published_at := coalesce(NEW.published_at, post.published_at);
      NEW.user_id := coalesce(NEW.user_id, post.user_id);
      RETURN NEW;
    END $$
    """,
    "DROP TRIGGER post_tags_take_published_at ON post_tags",
    """
    CREATE TRIGGER post_tags_take_published_at BEFORE INSERT ON post_tags
    FOR EACH ROW WHEN (NEW.published_at IS NULL OR NEW.user_id IS NULL)
    EXECUTE FUNCTION post_tags_take_published_at()
    """,
    f"""
    CREATE FUNCTION user_tag_posts_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      -- A transition table exists only for the events that have it: each branch names its own.
      IF TG_OP = 'INSERT' THEN
        INSERT INTO user_tag_post_counts (user_id, tag_id, slot, posts)
        SELECT user_id, tag_id, post_id % {SLOTS}, count(*) FROM new_rows
        WHERE {COUNTED.format(row="new_rows")}
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 {UPSERT};
      ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO user_tag_post_counts (user_id, tag_id, slot, posts)
        SELECT user_id, tag_id, post_id % {SLOTS}, -count(*) FROM old_rows
        WHERE {COUNTED.format(row="old_rows")}
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 {UPSERT};
      ELSE
        INSERT INTO user_tag_post_counts (user_id, tag_id, slot, posts)
        SELECT user_id, tag_id, slot, sum(change) FROM (
          SELECT user_id, tag_id, post_id % {SLOTS} AS slot, 1 AS change FROM new_rows
          WHERE {COUNTED.format(row="new_rows")}
          UNION ALL
          SELECT user_id, tag_id, post_id % {SLOTS}, -1 FROM old_rows
          WHERE {COUNTED.format(row="old_rows")}
        ) AS changes
        GROUP BY 1, 2, 3 HAVING sum(change) <> 0 ORDER BY 1, 2, 3 {UPSERT};
      END IF;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER user_tag_posts_counted_on_tagging AFTER INSERT ON post_tags
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION user_tag_posts_count_change()
    """,
    """
    CREATE TRIGGER user_tag_posts_counted_on_untagging AFTER DELETE ON post_tags
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION user_tag_posts_count_change()
    """,
    """
    CREATE TRIGGER user_tag_posts_counted_on_change AFTER UPDATE ON post_tags
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION user_tag_posts_count_change()
    """,
]

TRIGGERS = (
    "user_tag_posts_counted_on_tagging",
    "user_tag_posts_counted_on_untagging",
    "user_tag_posts_counted_on_change",
)

# Migration 0008's, restored on the way down.
SQLITE_TAKE_PUBLISHED_AT = """
    CREATE TRIGGER post_tags_take_published_at AFTER INSERT ON post_tags
    WHEN NEW.published_at IS NULL BEGIN
      UPDATE post_tags SET published_at = (SELECT published_at FROM posts WHERE id = NEW.post_id)
      WHERE post_id = NEW.post_id AND tag_id = NEW.tag_id;
    END
    """
POSTGRES_TAKE_PUBLISHED_AT = [
    """
    CREATE OR REPLACE FUNCTION post_tags_take_published_at() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      NEW.published_at := (SELECT published_at FROM posts WHERE id = NEW.post_id);
      RETURN NEW;
    END $$
    """,
    "DROP TRIGGER post_tags_take_published_at ON post_tags",
    """
    CREATE TRIGGER post_tags_take_published_at BEFORE INSERT ON post_tags
    FOR EACH ROW WHEN (NEW.published_at IS NULL) EXECUTE FUNCTION post_tags_take_published_at()
    """,
]


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    sqlite = _is_sqlite()
    op.add_column("post_tags", sa.Column("user_id", BIG_ID, nullable=True))
    if sqlite:
        op.execute(
            "UPDATE post_tags SET user_id = "
            "(SELECT user_id FROM posts WHERE posts.id = post_tags.post_id)"
        )
    else:
        op.execute(
            "UPDATE post_tags SET user_id = posts.user_id "
            "FROM posts WHERE posts.id = post_tags.post_id"
        )
    op.create_index(INDEX, "post_tags", ["user_id", "tag_id", "published_at", "post_id"])
    op.create_table(
        "user_tag_post_counts",
        sa.Column("user_id", BIG_ID, autoincrement=False, nullable=False),
        sa.Column("tag_id", BIG_ID, autoincrement=False, nullable=False),
        sa.Column("slot", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("posts", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "tag_id", "slot", name=op.f("pk_user_tag_post_counts")),
    )
    op.execute(
        f"INSERT INTO user_tag_post_counts (user_id, tag_id, slot, posts) "
        f"SELECT user_id, tag_id, post_id % {SLOTS}, count(*) FROM post_tags "
        f"WHERE {COUNTED.format(row='post_tags')} GROUP BY user_id, tag_id, post_id % {SLOTS}"
    )
    for statement in SQLITE_TRIGGERS if sqlite else POSTGRES_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    sqlite = _is_sqlite()
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}" + ("" if sqlite else " ON post_tags"))
    if sqlite:
        op.execute("DROP TRIGGER post_tags_take_published_at")
        op.execute(SQLITE_TAKE_PUBLISHED_AT)
    else:
        op.execute("DROP FUNCTION IF EXISTS user_tag_posts_count_change()")
        for statement in POSTGRES_TAKE_PUBLISHED_AT:
            op.execute(statement)
    op.drop_table("user_tag_post_counts")
    op.drop_index(INDEX, table_name="post_tags")
    op.drop_column("post_tags", "user_id")
