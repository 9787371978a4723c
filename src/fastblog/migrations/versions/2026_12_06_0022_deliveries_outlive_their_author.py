"""federation: a deleted account's deliveries and key outlive it

Deleting an account queues a `Delete` of its actor to each follower's inbox in the same
transaction (fastblog.federation.leaving). The foreign keys from ap_deliveries.author_id and
ap_actor_keys.user_id to users cascaded: the deletion took those deliveries, and the key
that signs them, away with it. Both columns stay, without the foreign key (as
ap_tombstones.author_id). PostgreSQL drops it in place; SQLite rebuilds the table.

Revision ID: 9e4a7c2b5d13
Revises: 7c3f9a1d2e60
Create Date: 2026-12-06 11:30:00.000000
"""

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

revision: str = "9e4a7c2b5d13"
down_revision: str | None = "7c3f9a1d2e60"  # search buckets (0021)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table, column, whether SQLite's table has AUTOINCREMENT (a rebuild must keep it)
FOREIGN_KEYS = (("ap_deliveries", "author_id", True), ("ap_actor_keys", "user_id", False))


def _name(table: str, column: str) -> str:
    return f"fk_{table}_{column}_users"  # as migration 0020 named them


def _indexes(table: str) -> list[tuple[str, str]]:
    """SQLite: each index's name and SQL. A rebuild copies only what reflection sees, and it
    does not see a partial index's WHERE; so they are made again from their own SQL."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return []
    rows = bind.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
        "AND sql IS NOT NULL",
        (table,),
    ).all()
    return [(name, sql) for name, sql in rows]


def _restore(indexes: list[tuple[str, str]]) -> None:
    bind = op.get_bind()
    for name, sql in indexes:
        bind.exec_driver_sql(f'DROP INDEX IF EXISTS "{name}"')
        bind.exec_driver_sql(sql)


@contextmanager
def _altering(table: str, autoincrement: bool) -> Iterator[BatchOperations]:
    """Alter `table`: in place on PostgreSQL; on SQLite a rebuild, its indexes made again."""
    indexes = _indexes(table)
    with warnings.catch_warnings():
        # SQLite: the rebuild reflects users too, whose lower(username) index reflection
        # skips (and says so); the users table is not touched.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        with op.batch_alter_table(
            table, table_kwargs={"sqlite_autoincrement": autoincrement}
        ) as batch:
            yield batch
    _restore(indexes)


def upgrade() -> None:
    for table, column, autoincrement in FOREIGN_KEYS:
        with _altering(table, autoincrement) as batch:
            batch.drop_constraint(_name(table, column), type_="foreignkey")


def downgrade() -> None:
    for table, column, autoincrement in FOREIGN_KEYS:
        # What the foreign key would refuse: rows of accounts deleted since the upgrade.
        op.execute(sa.text(f"DELETE FROM {table} WHERE {column} NOT IN (SELECT id FROM users)"))
        with _altering(table, autoincrement) as batch:
            batch.create_foreign_key(
                _name(table, column), "users", [column], ["id"], ondelete="CASCADE"
            )
