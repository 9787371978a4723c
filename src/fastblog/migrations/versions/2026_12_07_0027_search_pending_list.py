"""search: PostgreSQL's GIN index merges new posts' entries after 128 kB, not 4 MB

New posts' entries wait in the GIN index's pending list (fast update) until the list
outgrows gin_pending_list_limit, and every search reads that list whole. At the default 4 MB
(~2,000 posts) a rare word's and a phrase's search at a million posts took about twice as
long after a few thousand writes; at 128 kB the list is merged by the write that overflows
it. Only the index's option changes: no rebuild, no lock beyond a moment's. SQLite's FTS5
has no such list: nothing to do there.

Revision ID: c4e7a2f91d08
Revises: 9b2e5d7f0c36
Create Date: 2026-12-07 06:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

from fastblog.search import schema

revision: str = "c4e7a2f91d08"
down_revision: str | None = "9b2e5d7f0c36"  # search tiers index (0026)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if _is_postgres():
        op.execute(
            f"ALTER INDEX IF EXISTS {schema.VECTOR_INDEX} "
            f"SET (gin_pending_list_limit = {schema.PENDING_LIST_KB})"
        )


def downgrade() -> None:
    if _is_postgres():
        op.execute(f"ALTER INDEX IF EXISTS {schema.VECTOR_INDEX} RESET (gin_pending_list_limit)")
