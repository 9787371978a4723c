"""likes and follows, with counters kept by triggers

post_likes and follows, and the counts a page shows without counting rows: posts.like_count,
users.follower_count and users.following_count (a user's posts are counted by 0008). Triggers
keep them in the transaction of every write, cascades included, so deleting a user (and with
it their likes, follows and posts) fixes every count it touched.

Revision ID: 5a2866d33f34
Revises: e42f1e033d5c
Create Date: 2026-12-01 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5a2866d33f34"
down_revision: str | None = "e42f1e033d5c"  # search (0009)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)
COUNTERS = {
    "posts": ["like_count"],
    "users": ["follower_count", "following_count"],
}

# SQLite: row triggers (the only kind it has). Rows a foreign key's ON DELETE CASCADE removes
# fire them too.
SQLITE_TRIGGERS = [
    """
    CREATE TRIGGER post_likes_counted_on_insert AFTER INSERT ON post_likes BEGIN
      UPDATE posts SET like_count = like_count + 1 WHERE id = NEW.post_id;
    END
    """,
    """
    CREATE TRIGGER post_likes_counted_on_delete AFTER DELETE ON post_likes BEGIN
      UPDATE posts SET like_count = like_count - 1 WHERE id = OLD.post_id;
    END
    """,
    """
    CREATE TRIGGER follows_counted_on_insert AFTER INSERT ON follows BEGIN
      UPDATE users SET follower_count = follower_count + 1 WHERE id = NEW.followee_id;
      UPDATE users SET following_count = following_count + 1 WHERE id = NEW.follower_id;
    END
    """,
    """
    CREATE TRIGGER follows_counted_on_delete AFTER DELETE ON follows BEGIN
      UPDATE users SET follower_count = follower_count - 1 WHERE id = OLD.followee_id;
      UPDATE users SET following_count = following_count - 1 WHERE id = OLD.follower_id;
    END
    """,
]

# PostgreSQL. Likes and follows: row triggers (one row per request). A follow changes two users'
# rows: they are locked in id order first, so "A follows B" and "B follows A" at the same moment
# cannot deadlock.
POSTGRES_TRIGGERS = [
    """
    CREATE FUNCTION post_likes_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        UPDATE posts SET like_count = like_count + 1 WHERE id = NEW.post_id;
      ELSE
        UPDATE posts SET like_count = like_count - 1 WHERE id = OLD.post_id;
      END IF;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER post_likes_counted AFTER INSERT OR DELETE ON post_likes
    FOR EACH ROW EXECUTE FUNCTION post_likes_count_change()
    """,
    """
    CREATE FUNCTION follows_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      follow follows%ROWTYPE;
      change integer;
    BEGIN
      IF TG_OP = 'INSERT' THEN follow := NEW; change := 1;
      ELSE follow := OLD; change := -1;
      END IF;
      PERFORM 1 FROM users WHERE id IN (follow.follower_id, follow.followee_id)
        ORDER BY id FOR NO KEY UPDATE;
      UPDATE users SET follower_count = follower_count + change WHERE id = follow.followee_id;
      UPDATE users SET following_count = following_count + change
        WHERE id = follow.follower_id;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER follows_counted AFTER INSERT OR DELETE ON follows
    FOR EACH ROW EXECUTE FUNCTION follows_count_change()
    """,
]
SQLITE_TRIGGER_NAMES = [
    "post_likes_counted_on_insert",
    "post_likes_counted_on_delete",
    "follows_counted_on_insert",
    "follows_counted_on_delete",
]
POSTGRES_TRIGGER_NAMES = {
    "post_likes_counted": "post_likes",
    "follows_counted": "follows",
}
POSTGRES_FUNCTIONS = [
    "post_likes_count_change",
    "follows_count_change",
]


def upgrade() -> None:
    # Plain ALTER TABLE on both databases: a batch table copy on SQLite would lose the
    # expression index on lower(username) and the posts' triggers.
    for table, columns in COUNTERS.items():
        for column in columns:
            op.add_column(
                table, sa.Column(column, sa.BigInteger(), server_default="0", nullable=False)
            )
    op.create_table(
        "post_likes",
        sa.Column("post_id", BIG_ID, nullable=False),
        sa.Column("user_id", BIG_ID, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_post_likes_post_id_posts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_post_likes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("post_id", "user_id", name=op.f("pk_post_likes")),
    )
    op.create_index("ix_post_likes_user_id_post_id", "post_likes", ["user_id", "post_id"])
    op.create_table(
        "follows",
        sa.Column("follower_id", BIG_ID, nullable=False),
        sa.Column("followee_id", BIG_ID, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.CheckConstraint("follower_id <> followee_id", name=op.f("ck_follows_not_self")),
        sa.ForeignKeyConstraint(
            ["follower_id"],
            ["users.id"],
            name=op.f("fk_follows_follower_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["followee_id"],
            ["users.id"],
            name=op.f("fk_follows_followee_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("follower_id", "followee_id", name=op.f("pk_follows")),
    )
    op.create_index("ix_follows_followee_id_follower_id", "follows", ["followee_id", "follower_id"])
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in SQLITE_TRIGGERS if sqlite else POSTGRES_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for name, table in POSTGRES_TRIGGER_NAMES.items():
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for function in POSTGRES_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    op.drop_index("ix_follows_followee_id_follower_id", table_name="follows")
    op.drop_table("follows")
    op.drop_index("ix_post_likes_user_id_post_id", table_name="post_likes")
    op.drop_table("post_likes")
    for table, columns in COUNTERS.items():
        for column in reversed(columns):
            op.drop_column(table, column)
