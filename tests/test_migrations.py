"""The migrations build exactly the schema the models describe, on both backends."""

from typing import Any

import anyio
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from fastblog.cli import alembic_config, upgrade_database
from fastblog.models import Base

pytestmark = pytest.mark.anyio


def _diffs(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def inspect_database(url: str) -> tuple[set[str], list[Any]]:
    """The tables in the database, and how its schema differs from the models."""
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            tables = await connection.run_sync(_tables)
            diffs = await connection.run_sync(_diffs)
    finally:
        await engine.dispose()
    return tables, diffs


async def upgrade(url: str) -> None:
    # Alembic's async env.py runs its own event loop: it gets a thread of its own.
    await anyio.to_thread.run_sync(upgrade_database, url)


async def downgrade_to_base(url: str) -> None:
    await anyio.to_thread.run_sync(command.downgrade, alembic_config(url), "base")


def test_there_is_one_head() -> None:
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()

    assert len(heads) == 1, heads


async def test_upgrade_head_builds_the_models_schema(fresh_database_url: str) -> None:
    await upgrade(fresh_database_url)

    tables, diffs = await inspect_database(fresh_database_url)

    assert tables == {"alembic_version", *Base.metadata.tables}
    assert diffs == []


async def test_downgrade_to_base_then_upgrade_again(fresh_database_url: str) -> None:
    await upgrade(fresh_database_url)

    await downgrade_to_base(fresh_database_url)
    tables, _ = await inspect_database(fresh_database_url)
    assert tables == {"alembic_version"}

    await upgrade(fresh_database_url)
    tables, diffs = await inspect_database(fresh_database_url)
    assert tables == {"alembic_version", *Base.metadata.tables}
    assert diffs == []
