"""The suite's guard against leaked aiosqlite connections (tests/connections.py) names a leak
in the module that made it, and lets a pool that is still in use keep its connections."""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.connections import OpenConnections


@pytest.fixture
def guard() -> Iterator[OpenConnections]:
    guard = OpenConnections()
    guard.install()
    guard.test = "the test"
    try:
        yield guard
    finally:
        guard.uninstall()


def test_a_connection_returned_to_a_disposed_pool_is_a_leak(
    guard: OpenConnections, tmp_path: Path
) -> None:
    async def dispose_while_checked_out() -> None:
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'leak.db'}")
        async with engine.connect() as held:  # a background task's, say
            await held.execute(text("SELECT 1"))
            await engine.dispose()
        await engine.dispose()  # the engine's new pool is empty: nothing to close

    asyncio.run(dispose_while_checked_out())

    (leak,) = guard.leaks()
    assert leak.startswith("made in the test, at tests/test_connections.py:")
    assert "went back to the pool the engine discarded" in leak
    assert guard.leaks() == []  # closed by the first check, reported once


def test_a_bare_connection_left_open_is_a_leak(guard: OpenConnections, tmp_path: Path) -> None:
    async def open_and_forget() -> aiosqlite.Connection:
        return await aiosqlite.connect(tmp_path / "bare.db")

    connection = asyncio.run(open_and_forget())

    (leak,) = guard.leaks()
    assert "no engine lent it out" in leak
    assert connection._connection is None  # closed by the guard: it will not warn later


def test_the_connections_of_a_pool_in_use_are_left_alone(
    guard: OpenConnections, tmp_path: Path
) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'in-use.db'}")

    async def use() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    asyncio.run(use())

    assert guard.leaks() == []  # back in its engine's pool, as the session's app's are
    asyncio.run(use())  # and still usable
    asyncio.run(engine.dispose())


def test_a_disposed_engine_leaves_nothing_to_report(guard: OpenConnections, tmp_path: Path) -> None:
    async def use_and_dispose() -> None:
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'disposed.db'}")
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        await engine.dispose()

    asyncio.run(use_and_dispose())

    assert guard.leaks() == []
