"""Alembic environment, async: migrations run over the app's own async driver."""

import asyncio
from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from fastblog.config import get_settings
from fastblog.models import Base
from fastblog.search.schema import is_search_index

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name)

target_metadata = Base.metadata

# Several hosts may run `fastblog db upgrade` at the same moment (each at start-up). On
# PostgreSQL they take turns on this advisory lock, held by the migration's own transaction:
# the next one in line then reads the version the first one committed and has nothing to do.
# (SQLite is one machine: `upgrade_database` takes a file lock beside the database instead.)
MIGRATION_LOCK_ID = 0x66617374626C6F67  # "fastblog"


def _modelled(name: str | None, kind: Any, parents: Any) -> bool:
    """What autogenerate compares: all but the search index, which no model describes."""
    return not is_search_index(name, kind, parents)


def database_url() -> str:
    return config.get_main_option("sqlalchemy.url") or get_settings().database_url


def run_migrations_offline() -> None:
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=True,
        include_name=_modelled,
    )
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        # Batch mode rebuilds tables by copy-and-drop; with foreign keys enforced, dropping
        # the old users table would cascade into posts. (SQLite ignores this inside a
        # transaction, so it is issued before the migration transaction begins.)
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        # The file leaves its first migration in WAL, as the app runs it: switched here, by the
        # one process migrating, not by the app's connections racing for it at start-up
        # (fastblog.db.engine.use_wal_journal says why that failed).
        connection.exec_driver_sql("PRAGMA journal_mode=WAL")
        connection.commit()
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        include_name=_modelled,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})")
        context.run_migrations()


async def run_async_migrations() -> None:
    engine = create_async_engine(database_url(), poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_async_migrations())
