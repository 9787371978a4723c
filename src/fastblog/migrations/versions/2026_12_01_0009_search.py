"""search: posts.body_text and posts.tag_names, and the full-text index over them

SQLite: an FTS5 table kept by triggers (none if this SQLite lacks FTS5: search then falls back
to LIKE and says so at start-up). PostgreSQL: a generated tsvector column with a GIN index.
Existing posts get their text (rendered from their Markdown) and their tags' names, then the
index is built from them. See fastblog.search.schema.

Revision ID: e42f1e033d5c
Revises: c9903608ef76
Create Date: 2026-12-01 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from fastblog.posts.markdown import render
from fastblog.search import schema

revision: str = "e42f1e033d5c"
down_revision: str | None = "c9903608ef76"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _write_body_text() -> None:
    """Every existing post's text, from its Markdown, a batch at a time."""
    bind = op.get_bind()
    posts = sa.table("posts", sa.column("id", BIG_ID), sa.column("content"), sa.column("body_text"))
    update = (
        posts.update()
        .where(posts.c.id == sa.bindparam("post_id"))
        .values(body_text=sa.bindparam("text"))
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(posts.c.id, posts.c.content)
            .where(posts.c.id > last)
            .order_by(posts.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        bind.execute(
            update,
            [{"post_id": post_id, "text": render(content).text} for post_id, content in rows],
        )
        last = rows[-1][0]


# Plain ALTER TABLE on both databases: a batch table copy on SQLite would drop the posts
# table's triggers (the post counters of 0006).
def upgrade() -> None:
    op.add_column("posts", sa.Column("body_text", sa.Text(), server_default="", nullable=False))
    op.add_column("posts", sa.Column("tag_names", sa.Text(), server_default="", nullable=False))
    _write_body_text()
    if _is_sqlite():
        op.execute(schema.SQLITE_TAG_NAMES_FIXED)
        if schema.fts5_available():
            op.execute(schema.SQLITE_FTS_TABLE)
            op.execute(schema.SQLITE_REBUILD)
            for statement in schema.SQLITE_TRIGGERS.values():
                op.execute(statement)
        else:  # LIKE search; the tag names are still kept
            for name in ("post_tags_named_on_insert", "post_tags_named_on_delete"):
                op.execute(schema.SQLITE_TRIGGERS[name])
    else:
        op.execute(schema.POSTGRES_TAG_NAMES_FIXED)
        op.execute(schema.POSTGRES_VECTOR)
        # The index as this revision made it (0020 gives it a second key).
        op.execute(
            f"CREATE INDEX {schema.VECTOR_INDEX} ON posts USING gin ({schema.VECTOR_COLUMN})"
        )
        op.execute(schema.POSTGRES_TAG_NAMES_FUNCTION)
        for statement in schema.POSTGRES_TRIGGERS.values():
            op.execute(statement)


def downgrade() -> None:
    sqlite = _is_sqlite()
    triggers = schema.SQLITE_TRIGGERS if sqlite else schema.POSTGRES_TRIGGERS
    for name in triggers:
        op.execute(schema.drop_trigger(name, sqlite=sqlite))
    if sqlite:
        op.execute(f"DROP TABLE IF EXISTS {schema.FTS_TABLE}")
    else:
        op.execute("DROP FUNCTION IF EXISTS posts_tag_names_change()")
        op.execute(f"DROP INDEX IF EXISTS {schema.VECTOR_INDEX}")
        op.execute(f"ALTER TABLE posts DROP COLUMN {schema.VECTOR_COLUMN}")
    op.drop_column("posts", "tag_names")
    op.drop_column("posts", "body_text")
