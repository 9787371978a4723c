"""Throwaway databases for tests that run their own server process."""

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path

import asyncpg

from tests.conftest import PG_ADMIN_URL
from tests.migrated import migrated_postgres, migrated_sqlite


def sqlite_database(folder: Path) -> str:
    return migrated_sqlite(folder / "fastblog.db")


def postgres_dsn(name: str, *, host: str = "127.0.0.1", port: int | None = None) -> str:
    """A SQLAlchemy URL for database `name` on the test server (or on a proxy in front of it)."""
    admin = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    if port is not None:
        user = admin.split("//", 1)[1].split("@", 1)[0]
        return f"postgresql+asyncpg://{user}@{host}:{port}/{name}"
    return f"{admin}/{name}"


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A new, migrated PostgreSQL database; dropped afterwards (connections and all)."""
    with migrated_postgres() as name:
        yield name


async def terminate_connections(database: str) -> int:
    """pg_terminate_backend on every connection to `database` (and no other database's)."""
    connection = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        rows = await connection.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            database,
        )
    finally:
        await connection.close()
    return sum(1 for row in rows if row[0])


async def wait_for_query(database: str, fragment: str) -> None:
    """Until a query containing `fragment` runs on `database`."""
    connection = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        for _ in range(200):
            running = await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = $1 AND state = 'active' AND query LIKE '%' || $2 || '%' "
                "AND pid <> pg_backend_pid()",
                database,
                fragment,
            )
            if running:
                return
            await asyncio.sleep(0.05)
    finally:
        await connection.close()
    raise TimeoutError(f"no query with {fragment!r} on {database}")
