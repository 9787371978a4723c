"""ids never reused on SQLite

SQLite gives a new row max(id) + 1: deleting the newest account let the next sign-up take
its id, and the deleted user's unexpired token then named the newcomer. AUTOINCREMENT makes
ids only grow, as PostgreSQL's identity columns do. SQLite can only set it by rebuilding
the table; PostgreSQL needs nothing.

Revision ID: 3b8f2d6c1e07
Revises: 5d0b7c2e91a4
Create Date: 2026-11-27 09:00:00.000000
"""

import warnings
from collections.abc import Sequence

from alembic import op

revision: str = "3b8f2d6c1e07"
down_revision: str | None = "5d0b7c2e91a4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("users", "posts")


def _rebuild(table: str, *, autoincrement: bool) -> None:
    bind = op.get_bind()
    # Batch mode copies the indexes it can reflect; SQLite's reflection skips expression
    # indexes (such as lower(username)), so every index is re-created from its own SQL.
    indexes = bind.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
        "AND sql IS NOT NULL",
        (table,),
    ).all()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass
    for name, sql in indexes:
        bind.exec_driver_sql(f'DROP INDEX IF EXISTS "{name}"')
        bind.exec_driver_sql(sql)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        _rebuild(table, autoincrement=True)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        _rebuild(table, autoincrement=False)
