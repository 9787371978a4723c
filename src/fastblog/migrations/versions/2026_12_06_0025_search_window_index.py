"""search: SQLite indexes what a search's window tests of each match, by post id

A search walks its matches newest first and keeps the first 1,000 visible ones (with an
author's filter, that author's), with the date it ranks them by (fastblog.search.fts5). Each
test read the post's row: ~4 KB at a million posts, its status and date after the content, on
overflow pages. An index on posts (id, status, published_at, user_id) answers it without the
row (the search reads it with INDEXED BY). Built from the rows in id order: 15 s at a
million posts on a loaded machine (`fastblog db upgrade` whole), writes wait meanwhile.
PostgreSQL reads its window through the GIN index and each match's row for its tier vector:
nothing to do there.

Revision ID: 8a1d4c6e9b25
Revises: 5f2c8e1a7b34
Create Date: 2026-12-06 18:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "8a1d4c6e9b25"
down_revision: str | None = "5f2c8e1a7b34"  # search tier vector (0024)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As this revision makes it (fastblog.search.schema.SQLITE_WINDOW_INDEX and its columns).
INDEX = "ix_posts_id_status_published_at_user_id"
CREATE = f"CREATE INDEX IF NOT EXISTS {INDEX} ON posts (id, status, published_at, user_id)"


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    if _is_sqlite():
        op.execute(CREATE)


def downgrade() -> None:
    if _is_sqlite():
        op.execute(f"DROP INDEX IF EXISTS {INDEX}")
