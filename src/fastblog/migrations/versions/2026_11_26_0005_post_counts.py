"""post counts kept by triggers

Revision ID: 3c8e1f0a7b42
Revises: 3b8f2d6c1e07
Create Date: 2026-11-26 01:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3c8e1f0a7b42"
down_revision: str | None = "3b8f2d6c1e07"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SLOTS = 8  # fastblog.posts.models.COUNT_SLOTS

# SQLite: row triggers (the only kind it has); an upsert, so a missing slot row is created.
SQLITE_TRIGGERS = [
    f"""
    CREATE TRIGGER posts_counted_on_insert AFTER INSERT ON posts BEGIN
      INSERT INTO post_counts (slot, posts) VALUES (NEW.id % {SLOTS}, 1)
      ON CONFLICT (slot) DO UPDATE SET posts = posts + 1;
    END
    """,
    f"""
    CREATE TRIGGER posts_counted_on_delete AFTER DELETE ON posts BEGIN
      INSERT INTO post_counts (slot, posts) VALUES (OLD.id % {SLOTS}, -1)
      ON CONFLICT (slot) DO UPDATE SET posts = posts - 1;
    END
    """,
]

# PostgreSQL: statement triggers with transition tables, so a bulk insert (or a user's
# cascade of deleted posts) updates each slot once, not once per row.
POSTGRES_TRIGGERS = [
    f"""
    CREATE FUNCTION posts_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        INSERT INTO post_counts (slot, posts)
        SELECT id % {SLOTS}, count(*) FROM changed GROUP BY 1 ORDER BY 1
        ON CONFLICT (slot) DO UPDATE SET posts = post_counts.posts + EXCLUDED.posts;
      ELSE
        INSERT INTO post_counts (slot, posts)
        SELECT id % {SLOTS}, -count(*) FROM changed GROUP BY 1 ORDER BY 1
        ON CONFLICT (slot) DO UPDATE SET posts = post_counts.posts + EXCLUDED.posts;
      END IF;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER posts_counted_on_insert AFTER INSERT ON posts
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION posts_count_change()
    """,
    """
    CREATE TRIGGER posts_counted_on_delete AFTER DELETE ON posts
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION posts_count_change()
    """,
]


def upgrade() -> None:
    op.create_table(
        "post_counts",
        sa.Column("slot", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("posts", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("slot", name=op.f("pk_post_counts")),
    )
    op.execute(
        f"INSERT INTO post_counts (slot, posts) "
        f"SELECT id % {SLOTS}, count(*) FROM posts GROUP BY id % {SLOTS}"
    )
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_TRIGGERS if dialect == "sqlite" else POSTGRES_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name != "sqlite"
    for trigger in ("posts_counted_on_insert", "posts_counted_on_delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}" + (" ON posts" if postgres else ""))
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS posts_count_change()")
    op.drop_table("post_counts")
