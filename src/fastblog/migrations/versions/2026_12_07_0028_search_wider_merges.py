"""search: SQLite's FTS5 indexes merge 8 segments of a level, not 4

A rebuilt (or seeded) index is one large segment on a low level; at FTS5's default of 4, a
few thousand new posts' segments merged up to it and the whole index was rewritten, spread
over the writes that followed (fastblog.search.schema.FTS_AUTOMERGE says what was measured).
Only the tables' setting changes: nothing is rewritten now. PostgreSQL: nothing to do.

Revision ID: 5d8a1c3e7b90
Revises: c4e7a2f91d08
Create Date: 2026-12-07 16:40:00.000000
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

from fastblog.search import schema

revision: str = "5d8a1c3e7b90"
down_revision: str | None = "c4e7a2f91d08"  # search pending list (0027)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FTS5_DEFAULT_AUTOMERGE = 4


def _set_automerge(value: int) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    for table in (schema.FTS_TABLE, schema.TIERS_TABLE):
        exists = bind.execute(
            text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :name"),
            {"name": table},
        ).first()
        if exists:  # absent where SQLite was built without FTS5
            op.execute(f"INSERT INTO {table} ({table}, rank) VALUES ('automerge', {value})")


def upgrade() -> None:
    _set_automerge(schema.FTS_AUTOMERGE)


def downgrade() -> None:
    _set_automerge(FTS5_DEFAULT_AUTOMERGE)
