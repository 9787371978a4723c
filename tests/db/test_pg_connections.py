"""The compiled road's PostgreSQL connections (fastblog.db.pg_connections), through the runner:
a connection is kept for the next statement unless its statement was cut short or the
database may have restarted; PostgreSQL refusing a statement leaves it ready."""

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy import Integer, cast, func, literal, select
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect

from fastblog.db.compiled import DatabaseUnavailableError, PostgresRunner, Row, compile_query

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

BACKEND = select(func.pg_backend_pid().label("pid"))
SLOW = select(func.pg_sleep(2).label("slept"))
REFUSED = select(cast(literal("not a number"), Integer).label("never"))


@contextlib.asynccontextmanager
async def runner_on(
    url: str, *, pool_size: int = 1, seconds: float = 10
) -> AsyncIterator[PostgresRunner]:
    runner = PostgresRunner(asyncpg_dialect(), url, pool_size=pool_size, timeout=seconds)
    try:
        yield runner
    finally:
        await runner.close()


async def run(runner: PostgresRunner, statement: Any, *, write: bool = False) -> list[Row]:
    return await runner.fetch(compile_query(statement, runner.dialect), {}, write=write)


async def backend(runner: PostgresRunner) -> int:
    (row,) = await run(runner, BACKEND)
    return int(row["pid"])


async def test_a_connection_is_kept_for_the_next_statement_even_after_a_refused_one(
    postgres_url: str,
) -> None:
    async with runner_on(postgres_url) as runner:
        first = await backend(runner)
        with pytest.raises(asyncpg.DataError):
            await run(runner, REFUSED)
        assert await backend(runner) == first


async def test_a_statement_cut_short_by_the_timeout_closes_its_connection(
    postgres_url: str,
) -> None:
    async with runner_on(postgres_url, seconds=0.3) as runner:
        first = await backend(runner)
        with pytest.raises(DatabaseUnavailableError):
            await run(runner, SLOW, write=True)
        # Not given back still busy: the next statement has a connection of its own.
        assert await backend(runner) != first


async def test_a_connection_lost_makes_every_kept_one_new(postgres_url: str) -> None:
    async with runner_on(postgres_url, pool_size=2) as runner:
        first = await backend(runner)
        # PostgreSQL ends the connection, as a restart would end them all.
        killer = await asyncpg.connect(postgres_url.replace("+asyncpg", ""))
        try:
            await killer.execute("SELECT pg_terminate_backend($1)", first)
        finally:
            await killer.close()
        # A read tries once more on a fresh connection: answered, by another backend.
        assert await backend(runner) != first


async def test_closed_connections_are_the_database_being_away(postgres_url: str) -> None:
    async with runner_on(postgres_url) as runner:
        await backend(runner)
    with pytest.raises(DatabaseUnavailableError):
        await backend(runner)
