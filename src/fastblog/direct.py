"""The hot path: SQLAlchemy Core statements, compiled once, run on the driver's own connections.

Why it exists (measured with `make bench` and `python -m bench.probes`, see bench/README.md):
on a one-post read, an ORM session over SQLAlchemy's async pool made six trips to
aiosqlite's thread and spent most of the event loop's time in session and result
machinery, for ~0.05 of a bare FastAPI route. The same query on the driver's connection
is one trip (`execute_fetchall`) and no per-request session. So the few statements that
every page view and every new post run go through here; everything else (sign-up, edits,
deletes, password resets: the multi-statement transactions) keeps the ORM and its sessions.

The statements are still SQLAlchemy Core, written against the models, compiled for the
engine's dialect; results go through the column types' own result processors, so values
come back exactly as the ORM would return them (e.g. timezone-aware `date_posted`).

Every statement runs in autocommit: one statement, one transaction. On SQLite one writer
connection executes writes in order on its thread (no lock is held across the event
loop while other requests run), and a few `query_only` connections read in parallel.
On PostgreSQL, an asyncpg pool serves both.
"""

import asyncio
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

from fastblog.config import Settings
from fastblog.direct_sqlite import BatchingLane, SQLiteConnection

Row = tuple[Any, ...]
StatementListener = Callable[[str], None]


class DatabaseUnavailableError(Exception):
    """The database cannot be reached or cannot do the work right now (answered with 503)."""


class ConstraintViolationError(Exception):
    """The statement broke a constraint (e.g. its foreign key's row was just deleted)."""


@dataclass(frozen=True, slots=True)
class Query:
    """A statement compiled for one dialect: SQL text, parameter order, result processors."""

    sql: str
    parameter_names: tuple[str, ...]
    bind_processors: tuple[Callable[[Any], Any] | None, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(
            values[name] if processor is None else processor(values[name])
            for name, processor in zip(self.parameter_names, self.bind_processors, strict=True)
        )

    def process(self, row: Sequence[Any]) -> Row:
        return tuple(
            value if processor is None else processor(value)
            for value, processor in zip(row, self.processors, strict=True)
        )


def compile_query(statement: ClauseElement, dialect: Dialect) -> Query:
    """Compile once; values are converted by the column types both ways, as SQLAlchemy would."""
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    names = tuple(compiled.positiontup or ())
    bind_processors = tuple(
        compiled.binds[name].type._cached_bind_processor(dialect) for name in names
    )
    # A SELECT's columns, or an INSERT … RETURNING's.
    columns: Sequence[Any] = (
        getattr(statement, "selected_columns", None) or getattr(statement, "_returning", None) or ()
    )
    processors = tuple(column.type._cached_result_processor(dialect, None) for column in columns)
    return Query(compiled.string, names, bind_processors, processors)


class DirectDatabase(Protocol):
    dialect: Dialect
    listeners: list[StatementListener]

    async def fetch(
        self, query: Query, values: Mapping[str, Any], *, write: bool = False
    ) -> list[Row]:
        """Run one statement in its own transaction and return its processed rows."""
        ...

    async def close(self) -> None: ...


class SQLiteDirect:
    """A writer connection (writes go in order on its thread) and a few query_only readers;
    see fastblog.direct_sqlite for why statements travel in batches."""

    def __init__(self, dialect: Dialect, path: str, *, readers: int, busy_timeout_ms: int) -> None:
        self.dialect = dialect
        self.listeners: list[StatementListener] = []
        # Called with each new sqlite3 connection, in its thread (like SQLAlchemy's
        # "connect" event on the engine).
        self.on_connect: list[Callable[[sqlite3.Connection], None]] = []

        def connections(count: int, *, query_only: bool) -> list[SQLiteConnection]:
            return [
                SQLiteConnection(
                    path,
                    query_only=query_only,
                    busy_timeout_ms=busy_timeout_ms,
                    on_connect=self.on_connect,
                )
                for _ in range(count)
            ]

        # Connections open on first use, in their threads: a broken database file gives
        # 503s (and "not ready") instead of a server that will not start.
        self._writes = BatchingLane(connections(1, query_only=False))
        self._reads = BatchingLane(connections(readers, query_only=True))

    async def fetch(
        self, query: Query, values: Mapping[str, Any], *, write: bool = False
    ) -> list[Row]:
        for listener in self.listeners:
            listener(query.sql)
        lane = self._writes if write else self._reads
        try:
            rows = await lane.execute(query.sql, query.parameters(values))
        except sqlite3.IntegrityError as exc:
            raise ConstraintViolationError(str(exc)) from exc
        except sqlite3.Error as exc:  # locked past busy_timeout, disk full, I/O, not a database
            raise DatabaseUnavailableError(str(exc)) from exc
        return [query.process(row) for row in rows]

    async def close(self) -> None:
        await self._writes.close()
        await self._reads.close()


# A connection that died under us (server restart, pg_terminate_backend) or a server that
# does not answer: the pool replaces the connection; the request gets a 503 or a retry.
PG_UNAVAILABLE = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.exceptions.OperatorInterventionError,
    OSError,
    TimeoutError,
)


async def _keep_session(connection: asyncpg.Connection) -> None:
    return None


class PostgresDirect:
    def __init__(self, dialect: Dialect, url: str, *, pool_size: int, timeout: float) -> None:
        self.dialect = dialect
        self.listeners: list[StatementListener] = []
        self._dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._pool_size = pool_size
        self._timeout = timeout
        self._pool: asyncpg.Pool | None = None
        self._creating = asyncio.Lock()

    async def _pool_or_connect(self) -> asyncpg.Pool:
        # Created on first use, so the app starts (and says "not ready") while the
        # database is down, and recovers by itself when it is back.
        if self._pool is not None:
            return self._pool
        async with self._creating:  # one pool, however many first requests arrive at once
            if self._pool is None:
                self._pool = await self._create_pool()
        return self._pool

    async def _create_pool(self) -> asyncpg.Pool:
        return await asyncpg.create_pool(
            self._dsn,
            # No floor of idle connections: asyncpg would keep re-dialing a database
            # that is down, with a traceback in the log each time.
            min_size=0,
            max_size=self._pool_size,
            timeout=self._timeout,
            command_timeout=self._timeout,
            # By default a released connection gets RESET ALL, UNLISTEN, … : one more
            # round trip per statement. The hot path's single autocommit statements
            # change no session state, so only an open transaction (none) is rolled back.
            reset=_keep_session,
        )

    async def fetch(
        self, query: Query, values: Mapping[str, Any], *, write: bool = False
    ) -> list[Row]:
        for listener in self.listeners:
            listener(query.sql)
        parameters = query.parameters(values)
        # A read is safe to repeat once on a fresh connection; a write is not.
        for attempt in range(1 if write else 2):
            try:
                pool = await self._pool_or_connect()
                # asyncpg's own timeouts, not a cancellation from outside: a connection
                # cancelled mid-statement could go back to the pool still busy.
                async with pool.acquire(timeout=self._timeout) as connection:
                    rows = await connection.fetch(query.sql, *parameters, timeout=self._timeout)
            except asyncpg.IntegrityConstraintViolationError as exc:
                raise ConstraintViolationError(str(exc)) from exc
            except PG_UNAVAILABLE as exc:
                if write or attempt == 1:
                    raise DatabaseUnavailableError(str(exc) or type(exc).__name__) from exc
                continue
            return [query.process(row) for row in rows]
        raise AssertionError("unreachable")

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()


def create_direct_database(settings: Settings, dialect: Dialect) -> DirectDatabase:
    if settings.is_sqlite:
        path = make_url(settings.database_url).database
        if not path or path == ":memory:":
            raise ValueError("fastblog needs a SQLite file, not an in-memory database")
        return SQLiteDirect(
            dialect,
            path,
            readers=settings.sqlite_read_connections,
            busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        )
    return PostgresDirect(
        dialect,
        settings.database_url,
        pool_size=settings.db_pool_size,
        timeout=settings.db_timeout_seconds,
    )
