"""search: the PostgreSQL GIN index gets a second key, the post's id bucket (btree_gin)

So that a search finds a word's newest matches through the index alone, rather than reading
every match (docs/search.md, "Ranking"). PostgreSQL only; SQLite's FTS5 already walks its
matches newest first. btree_gin ships with PostgreSQL and is a trusted extension: the
database's owner may create it. Building the index takes minutes at a million posts (it
blocks writes to posts meanwhile, not reads).

Revision ID: 7c3f9a1d2e60
Revises: 7b3f9e1d2a60
Create Date: 2026-12-06 09:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

from fastblog.search import schema

revision: str = "7c3f9a1d2e60"
down_revision: str | None = "7b3f9e1d2a60"  # federation (0020)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As this revision makes it (schema.POSTGRES_VECTOR_INDEX is whatever is current).
WITH_BUCKETS = (
    f"CREATE INDEX {schema.VECTOR_INDEX} ON posts USING gin ({schema.VECTOR_COLUMN}, (id / 8192))"
)
WITHOUT = f"CREATE INDEX {schema.VECTOR_INDEX} ON posts USING gin ({schema.VECTOR_COLUMN})"


def _is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if _is_postgres():
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
        op.execute(f"DROP INDEX IF EXISTS {schema.VECTOR_INDEX}")
        op.execute(WITH_BUCKETS)


def downgrade() -> None:
    if _is_postgres():
        op.execute(f"DROP INDEX IF EXISTS {schema.VECTOR_INDEX}")
        op.execute(WITHOUT)
