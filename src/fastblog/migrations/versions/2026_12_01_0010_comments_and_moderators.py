"""comments, the posts' comment counts (kept by triggers) and the moderator role

Revision ID: ecbf8e04216f
Revises: 8a1d4c6e2f90
Create Date: 2026-12-01 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ecbf8e04216f"
down_revision: str | None = "8a1d4c6e2f90"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)

# posts.comments follows every comment written or deleted, however it is deleted: by its
# author, a moderator, or the cascade of a deleted post or account. A cascade from a deleted
# post finds no post row to update, which is right.
SQLITE_TRIGGERS = [
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

# Statement triggers with transition tables (as the post counters): deleting an account's
# many comments updates each post once; posts in id order, so two such cascades lock the
# same posts in the same order.
POSTGRES_TRIGGERS = [
    """
    CREATE FUNCTION comments_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
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
    """
    CREATE TRIGGER comments_counted_on_insert AFTER INSERT ON comments
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION comments_count_change()
    """,
    """
    CREATE TRIGGER comments_counted_on_delete AFTER DELETE ON comments
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION comments_count_change()
    """,
]


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


# Plain ALTER TABLE on both databases: a batch table copy on SQLite would lose the expression
# index on lower(username) and the posts' triggers.
def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("is_moderator", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column("posts", sa.Column("comments", sa.Integer(), server_default="0", nullable=False))
    op.create_table(
        "comments",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("post_id", BIG_ID, nullable=False),
        sa.Column("user_id", BIG_ID, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_comments_post_id_posts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_comments_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_comments_post_id_created_at_id", "comments", ["post_id", "created_at", "id"]
    )
    op.create_index("ix_comments_user_id", "comments", ["user_id"])
    for statement in SQLITE_TRIGGERS if _is_sqlite() else POSTGRES_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    op.drop_index("ix_comments_user_id", table_name="comments")
    op.drop_index("ix_comments_post_id_created_at_id", table_name="comments")
    op.drop_table("comments")  # its triggers go with it
    if not _is_sqlite():
        op.execute("DROP FUNCTION IF EXISTS comments_count_change()")
    op.drop_column("posts", "comments")
    op.drop_column("users", "is_moderator")
