"""publishing: Markdown rendered once, excerpts, slugs, tags, drafts and scheduled posts

Existing posts are rendered with every single line break kept as a <br> (they were shown with
`white-space: pre-line`), published at the moment they were written. The post counters now
count published posts only, and follow a post that is published or taken back to draft.

Revision ID: 7a4d2c9e5b10
Revises: 3c8e1f0a7b42
Create Date: 2026-12-01 16:00:00.000000
"""

import contextlib
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from fastblog.posts.markdown import render, slug_of

revision: str = "7a4d2c9e5b10"
down_revision: str | None = "3c8e1f0a7b42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SLOTS = 8  # fastblog.posts.models.COUNT_SLOTS
BATCH = 500
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)
STATUS_CHECK = (
    "(status = 'draft' AND published_at IS NULL)"
    " OR (status = 'published' AND published_at IS NOT NULL)"
)

SQLITE_TRIGGERS = [
    f"""
    CREATE TRIGGER posts_counted_on_insert AFTER INSERT ON posts
    WHEN NEW.status = 'published' BEGIN
      INSERT INTO post_counts (slot, posts) VALUES (NEW.id % {SLOTS}, 1)
      ON CONFLICT (slot) DO UPDATE SET posts = posts + 1;
    END
    """,
    f"""
    CREATE TRIGGER posts_counted_on_delete AFTER DELETE ON posts
    WHEN OLD.status = 'published' BEGIN
      INSERT INTO post_counts (slot, posts) VALUES (OLD.id % {SLOTS}, -1)
      ON CONFLICT (slot) DO UPDATE SET posts = posts - 1;
    END
    """,
    f"""
    CREATE TRIGGER posts_counted_on_status AFTER UPDATE OF status ON posts
    WHEN OLD.status <> NEW.status BEGIN
      INSERT INTO post_counts (slot, posts)
      VALUES (NEW.id % {SLOTS}, CASE WHEN NEW.status = 'published' THEN 1 ELSE -1 END)
      ON CONFLICT (slot) DO UPDATE SET posts = posts + excluded.posts;
    END
    """,
]

# Statement triggers with transition tables, as in 0005; an UPDATE trigger cannot name its
# columns when it has transition tables, so it runs on every UPDATE and writes only when
# some post changed status.
POSTGRES_TRIGGERS = [
    f"""
    CREATE OR REPLACE FUNCTION posts_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        INSERT INTO post_counts (slot, posts)
        SELECT id % {SLOTS}, count(*) FROM changed WHERE status = 'published' GROUP BY 1 ORDER BY 1
        ON CONFLICT (slot) DO UPDATE SET posts = post_counts.posts + EXCLUDED.posts;
      ELSE
        INSERT INTO post_counts (slot, posts)
        SELECT id % {SLOTS}, -count(*) FROM changed WHERE status = 'published' GROUP BY 1 ORDER BY 1
        ON CONFLICT (slot) DO UPDATE SET posts = post_counts.posts + EXCLUDED.posts;
      END IF;
      RETURN NULL;
    END $$
    """,
    f"""
    CREATE FUNCTION posts_count_status_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO post_counts (slot, posts)
      SELECT slot, sum(change) FROM (
        SELECT id % {SLOTS} AS slot, 1 AS change FROM new_rows WHERE status = 'published'
        UNION ALL
        SELECT id % {SLOTS}, -1 FROM old_rows WHERE status = 'published'
      ) AS changes
      GROUP BY slot HAVING sum(change) <> 0 ORDER BY slot
      ON CONFLICT (slot) DO UPDATE SET posts = post_counts.posts + EXCLUDED.posts;
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
    """
    CREATE TRIGGER posts_counted_on_status AFTER UPDATE ON posts
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION posts_count_status_change()
    """,
]

# Migration 0005's triggers, for the downgrade.
OLD_SQLITE_TRIGGERS = [
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
OLD_POSTGRES_TRIGGERS = [
    f"""
    CREATE OR REPLACE FUNCTION posts_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
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


@contextlib.contextmanager
def _rebuilt_posts() -> Iterator[Any]:
    """Batch mode; on SQLite the table is rebuilt (its triggers go with the old one), and
    reflecting the users table it refers to skips the expression index on lower(username)."""
    sqlite = _is_sqlite()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        with op.batch_alter_table(
            "posts", table_kwargs={"sqlite_autoincrement": True} if sqlite else {}
        ) as batch:
            yield batch


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _drop_triggers(names: Sequence[str]) -> None:
    suffix = "" if _is_sqlite() else " ON posts"
    for name in names:
        op.execute(f"DROP TRIGGER IF EXISTS {name}{suffix}")


def _recount(where: str) -> None:
    op.execute("DELETE FROM post_counts")
    op.execute(
        f"INSERT INTO post_counts (slot, posts) "
        f"SELECT id % {SLOTS}, count(*) FROM posts {where} GROUP BY id % {SLOTS}"
    )


def _render_existing_posts() -> None:
    """Every post rendered as it looked before: single line breaks kept."""
    bind = op.get_bind()
    posts = sa.table(
        "posts",
        sa.column("id", BIG_ID),
        sa.column("title", sa.String()),
        sa.column("content", sa.Text()),
        sa.column("content_html", sa.Text()),
        sa.column("excerpt", sa.Text()),
        sa.column("slug", sa.String()),
        sa.column("status", sa.String()),
        sa.column("published_at", TIME),
        sa.column("updated_at", TIME),
        sa.column("date_posted", TIME),
    )
    update = (
        posts.update()
        .where(posts.c.id == sa.bindparam("post_id"))
        .values(
            content_html=sa.bindparam("html"),
            excerpt=sa.bindparam("text"),
            slug=sa.bindparam("post_slug"),
            status="published",
            published_at=posts.c.date_posted,
            updated_at=posts.c.date_posted,
        )
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(posts.c.id, posts.c.title, posts.c.content)
            .where(posts.c.id > last)
            .order_by(posts.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        values = []
        for post_id, title, content in rows:
            rendered = render(content, breaks=True)
            values.append(
                {
                    "post_id": post_id,
                    "html": rendered.html,
                    "text": rendered.excerpt,
                    "post_slug": slug_of(title),
                }
            )
        bind.execute(update, values)
        last = rows[-1][0]


def upgrade() -> None:
    _drop_triggers(["posts_counted_on_insert", "posts_counted_on_delete"])
    with op.batch_alter_table("posts") as batch:
        batch.add_column(sa.Column("slug", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("content_html", sa.Text(), nullable=True))
        batch.add_column(sa.Column("excerpt", sa.Text(), nullable=True))
        batch.add_column(sa.Column("status", sa.String(length=10), nullable=True))
        batch.add_column(sa.Column("published_at", TIME, nullable=True))
        batch.add_column(sa.Column("updated_at", TIME, nullable=True))
    _render_existing_posts()
    # Its triggers are made last: on SQLite the rebuild would drop them.
    with _rebuilt_posts() as batch:
        for column in ("slug", "content_html", "excerpt", "status", "updated_at"):
            batch.alter_column(column, nullable=False)
        batch.create_check_constraint(op.f("ck_posts_status_published_at"), STATUS_CHECK)
        batch.drop_index("ix_posts_user_id_date_posted_id")
        batch.drop_index("ix_posts_date_posted_id")
        batch.create_index("ix_posts_published_at_id", ["published_at", "id"])
        batch.create_index("ix_posts_user_id_published_at_id", ["user_id", "published_at", "id"])

    op.create_table(
        "tags",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("name", sa.String(length=30), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tags")),
        sa.UniqueConstraint("name", name=op.f("uq_tags_name")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "post_tags",
        sa.Column("post_id", BIG_ID, nullable=False),
        sa.Column("tag_id", BIG_ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_post_tags_post_id_posts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tags.id"], name=op.f("fk_post_tags_tag_id_tags"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("post_id", "tag_id", name=op.f("pk_post_tags")),
    )
    op.create_index("ix_post_tags_tag_id_post_id", "post_tags", ["tag_id", "post_id"])

    _recount("WHERE status = 'published'")
    for statement in SQLITE_TRIGGERS if _is_sqlite() else POSTGRES_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    _drop_triggers(
        ["posts_counted_on_insert", "posts_counted_on_delete", "posts_counted_on_status"]
    )
    if not _is_sqlite():
        op.execute("DROP FUNCTION IF EXISTS posts_count_status_change()")
    op.drop_index("ix_post_tags_tag_id_post_id", table_name="post_tags")
    op.drop_table("post_tags")
    op.drop_table("tags")
    with _rebuilt_posts() as batch:
        batch.drop_index("ix_posts_user_id_published_at_id")
        batch.drop_index("ix_posts_published_at_id")
        batch.drop_constraint(op.f("ck_posts_status_published_at"), type_="check")
        for column in ("updated_at", "published_at", "status", "excerpt", "content_html", "slug"):
            batch.drop_column(column)
        batch.create_index("ix_posts_date_posted_id", ["date_posted", "id"])
        batch.create_index("ix_posts_user_id_date_posted_id", ["user_id", "date_posted", "id"])
    _recount("")
    for statement in OLD_SQLITE_TRIGGERS if _is_sqlite() else OLD_POSTGRES_TRIGGERS:
        op.execute(statement)
