"""comment approval (comments.status; only approved comments count), posts.comments_enabled,
author profiles (users.bio, bio_html, website)

Plain ADD COLUMN on every table (never a batch rebuild: on SQLite it would lose the posts'
and comments' triggers and the expression index on lower(username)). Existing comments are
approved (the column's default). The counting triggers of 0010 are replaced by ones that
count approved comments only, and a third follows approval (an UPDATE of status).

Revision ID: 7c3b9d15e6a2
Revises: 3f6c1a9d2b74
Create Date: 2026-12-06 01:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c3b9d15e6a2"
down_revision: str | None = "3f6c1a9d2b74"  # site settings and pages (0014)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING_ONLY = sa.text("status = 'pending'")

SQLITE_TRIGGERS = [
    "DROP TRIGGER comments_counted_on_insert",
    "DROP TRIGGER comments_counted_on_delete",
    """
    CREATE TRIGGER comments_counted_on_insert AFTER INSERT ON comments
    WHEN NEW.status = 'approved' BEGIN
      UPDATE posts SET comments = comments + 1 WHERE id = NEW.post_id;
    END
    """,
    """
    CREATE TRIGGER comments_counted_on_delete AFTER DELETE ON comments
    WHEN OLD.status = 'approved' BEGIN
      UPDATE posts SET comments = comments - 1 WHERE id = OLD.post_id;
    END
    """,
    # Approval (pending -> approved) counts it; the other way (never done today) uncounts it.
    """
    CREATE TRIGGER comments_counted_on_approval AFTER UPDATE OF status ON comments
    WHEN (OLD.status = 'approved') <> (NEW.status = 'approved') BEGIN
      UPDATE posts SET comments = comments + CASE WHEN NEW.status = 'approved' THEN 1 ELSE -1 END
      WHERE id = NEW.post_id;
    END
    """,
]
SQLITE_DOWN = [
    "DROP TRIGGER comments_counted_on_approval",
    "DROP TRIGGER comments_counted_on_insert",
    "DROP TRIGGER comments_counted_on_delete",
    """
    CREATE TRIGGER comments_counted_on_insert AFTER INSERT ON comments BEGIN
      UPDATE posts SET comments = comments + 1 WHERE id = NEW.post_id;
    END
    """,
    """
    CREATE TRIGGER comments_counted_on_delete AFTER DELETE ON comments BEGIN
      UPDATE posts SET comments = comments - 1 WHERE id = OLD.post_id;
    END
    """,
]

# The same statement triggers as 0010 (transition tables, posts in id order), counting only
# approved rows. An UPDATE trigger cannot name columns when it has transition tables, so the
# approval trigger fires on any UPDATE of comments and compares old and new rows by id.
POSTGRES_TRIGGERS = [
    """
    CREATE OR REPLACE FUNCTION comments_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      sign integer := CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END;
    BEGIN
      UPDATE posts SET comments = posts.comments + sign * changes.n
      FROM (
        SELECT post_id, count(*) AS n FROM changed WHERE status = 'approved'
        GROUP BY post_id ORDER BY post_id
      ) AS changes
      WHERE posts.id = changes.post_id;
      RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION comments_count_approval() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE posts SET comments = posts.comments + changes.n
      FROM (
        SELECT new_rows.post_id,
               sum(CASE WHEN new_rows.status = 'approved' THEN 1 ELSE -1 END) AS n
        FROM new_rows JOIN old_rows ON old_rows.id = new_rows.id
        WHERE (old_rows.status = 'approved') <> (new_rows.status = 'approved')
        GROUP BY new_rows.post_id ORDER BY new_rows.post_id
      ) AS changes
      WHERE posts.id = changes.post_id;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER comments_counted_on_approval AFTER UPDATE ON comments
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION comments_count_approval()
    """,
]
POSTGRES_DOWN = [
    "DROP TRIGGER comments_counted_on_approval ON comments",
    "DROP FUNCTION comments_count_approval()",
    """
    CREATE OR REPLACE FUNCTION comments_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      sign integer := CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END;
    BEGIN
      UPDATE posts SET comments = posts.comments + sign * changes.n
      FROM (
        SELECT post_id, count(*) AS n FROM changed GROUP BY post_id ORDER BY post_id
      ) AS changes
      WHERE posts.id = changes.post_id;
      RETURN NULL;
    END $$
    """,
]


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    op.add_column(
        "comments",
        sa.Column("status", sa.String(10), server_default="approved", nullable=False),
    )
    op.create_index(
        "ix_comments_pending_created_at_id",
        "comments",
        ["created_at", "id"],
        sqlite_where=PENDING_ONLY,
        postgresql_where=PENDING_ONLY,
    )
    op.add_column(
        "posts",
        sa.Column("comments_enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
    )
    op.add_column("users", sa.Column("bio", sa.Text(), nullable=True))
    op.add_column("users", sa.Column("bio_html", sa.Text(), nullable=True))
    op.add_column("users", sa.Column("website", sa.String(200), nullable=True))
    for statement in SQLITE_TRIGGERS if _is_sqlite() else POSTGRES_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    # Waiting comments were never counted; they go, so the old triggers' counts stay right.
    op.execute("DELETE FROM comments WHERE status <> 'approved'")
    for statement in SQLITE_DOWN if _is_sqlite() else POSTGRES_DOWN:
        op.execute(statement)
    op.drop_column("users", "website")
    op.drop_column("users", "bio_html")
    op.drop_column("users", "bio")
    op.drop_column("posts", "comments_enabled")
    op.drop_index("ix_comments_pending_created_at_id", table_name="comments")
    op.drop_column("comments", "status")
