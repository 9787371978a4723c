"""`Database`: the one object through which the app reaches its database (see fastblog.db)."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

from sqlalchemy import Select, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.sql.expression import Executable

from fastblog.config import Settings
from fastblog.db.compiled import Query, Row, StatementRunner, compile_query, create_runner
from fastblog.db.engine import (
    check_sqlite_writable,
    create_engine,
    is_database_unavailable,
    use_wal_journal,
)

logger = logging.getLogger(__name__)


class Database:
    """The engine and its sessions (the ORM road) and the compiled-statement road, together.

    Made in the lifespan by `Database.open(settings)` and closed there.
    """

    def __init__(self, settings: Settings, engine: AsyncEngine, runner: StatementRunner) -> None:
        self.settings = settings
        self.engine = engine
        self.dialect = engine.dialect
        self.runner = runner
        # expire_on_commit=False: objects stay readable after commit without a hidden
        # refresh, which in async code would be an implicit (and forbidden) await.
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        # SQLite has one writer at a time: this process's write transactions queue here, on
        # the event loop, rather than in driver threads polling SQLite's busy handler. Other
        # processes are kept in order by busy_timeout. PostgreSQL locks rows itself.
        self._write_lock: contextlib.AbstractAsyncContextManager[Any] = (
            asyncio.Lock() if settings.is_sqlite else contextlib.nullcontext()
        )
        self._compiled: dict[int, tuple[Executable, Query]] = {}

    @classmethod
    def open(cls, settings: Settings) -> "Database":
        if settings.is_sqlite:
            check_sqlite_writable(settings.database_url)
            use_wal_journal(settings.database_url, settings.sqlite_busy_timeout_ms)
        engine = create_engine(settings)
        return cls(settings, engine, create_runner(settings, engine.dialect))

    async def close(self) -> None:
        await self.runner.close()
        await self.engine.dispose()

    # -- the compiled-statement road: one statement, its own transaction -------------------

    def compiled(self, statement: Executable) -> Query:
        """The statement compiled for this database; compiled once, on first use."""
        entry = self._compiled.get(id(statement))
        if entry is None or entry[0] is not statement:
            entry = (statement, compile_query(statement, self.dialect))
            self._compiled[id(statement)] = entry
        return entry[1]

    async def fetch(
        self,
        statement: Executable,
        values: Mapping[str, Any] | None = None,
        *,
        planner: Mapping[str, str] | None = None,
    ) -> list[Row]:
        """Run a one-statement read; rows as dicts keyed by column name. `planner`: PostgreSQL
        planner settings for this statement alone (SET LOCAL in its own transaction)."""
        return await self.runner.fetch(self.compiled(statement), values or {}, planner=planner)

    async def fetch_one(
        self, statement: Executable, values: Mapping[str, Any] | None = None
    ) -> Row | None:
        rows = await self.fetch(statement, values)
        return rows[0] if rows else None

    async def write(
        self, statement: Executable, values: Mapping[str, Any] | None = None
    ) -> list[Row]:
        """Run a one-statement write (an INSERT … RETURNING, say); it commits by itself."""
        return await self.runner.fetch(self.compiled(statement), values or {}, write=True)

    # -- the ORM road: sessions and transactions ------------------------------------------

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session for reads; closed even when its connection died under it.

        Closing rolls back; on a connection the database or the network cut, that rollback
        fails. The transaction went with the connection and the pool discards it, so the
        failure is only noted: raised, it would replace the request's own error (answered
        with a 503) or, after the response has started, crash the request in the server log.
        """
        session = self._sessions()
        try:
            yield session
        finally:
            try:
                await session.close()
            except Exception as exc:
                if not is_database_unavailable(exc):
                    raise
                logger.warning("Discarded a broken database connection: %s", type(exc).__name__)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session for a write transaction; the caller commits. Do slow work (password
        hashing, image resizing) before entering: on SQLite this holds the write lock."""
        async with self._write_lock, self.session() as session:
            await _begin_write(session)
            yield session

    # -- health -------------------------------------------------------------------------

    async def ping(self) -> None:
        """Both roads answer a trivial query, or this raises."""
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        await self.fetch(_PING)

    def pool_status(self) -> dict[str, int]:
        """Connections of the ORM engine's pool (the compiled road reports its own)."""
        pool: Any = self.engine.pool
        return {"checked_out": int(pool.checkedout()), "size": int(pool.size())}


_PING: Select[tuple[int]] = select(literal_column("1").label("ok"))


async def _begin_write(session: AsyncSession) -> None:
    """Take SQLite's write lock before the first read of a write transaction.

    SQLite's default deferred transaction reads from a snapshot and fails at once
    with "database is locked" if it later tries to write after another writer has
    committed; busy_timeout cannot help there. BEGIN IMMEDIATE waits for the lock
    up front instead. PostgreSQL needs nothing of the kind.
    """
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(text("BEGIN IMMEDIATE"))
