"""The compiled-statement road: SQLAlchemy Core statements compiled once per dialect and run
on the driver's own connections, one statement per transaction.

Why it exists (measured, see docs/performance.md): an ORM session over SQLAlchemy's async pool
made six trips to aiosqlite's thread for a one-post read and spent most of the event loop's
time in session and result machinery. The same statement on the driver's connection is one
trip and no per-request session.

Only public SQLAlchemy APIs: `compiled.positiontup` for the parameter order, the column
types' `dialect_impl(dialect).bind_processor(...)` / `.result_processor(...)` for values
(so a UTCDateTime comes back timezone-aware, as from the ORM), and `exported_columns` for the
names of a SELECT's or a RETURNING's columns. Rows come back as dicts keyed by those names.

On SQLite one writer connection runs writes in order on its thread and a few `query_only`
connections read in parallel (fastblog.db.sqlite_threads); on PostgreSQL a few asyncpg
connections serve both (fastblog.db.pg_connections).
"""

import asyncio
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import asyncpg
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.sql.expression import Executable

from fastblog.config import Settings
from fastblog.db.pg_connections import PostgresConnections
from fastblog.db.postgres_tls import plain_tcp_is_enough
from fastblog.db.sqlite_threads import BatchingLane, SQLiteConnection

Row = dict[str, Any]
StatementListener = Callable[[str], None]


class DatabaseUnavailableError(Exception):
    """The database cannot be reached or cannot do the work right now (answered with 503)."""


class ConstraintViolationError(Exception):
    """The statement broke a constraint (e.g. its foreign key's row was just deleted)."""


Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class Query:
    """A statement compiled for one dialect: SQL text, parameter order, value converters."""

    sql: str
    parameter_names: tuple[str, ...]
    bind_processors: tuple[Processor, ...]
    column_names: tuple[str, ...]
    result_processors: tuple[Processor, ...]
    # Values written into the statement itself (`.values(title="x")`); the caller's win.
    defaults: Mapping[str, Any]
    # The columns with a result processor, (position, name, processor), from the two above
    # (most columns have none).
    processed: tuple[tuple[int, str, Callable[[Any], Any]], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # A name given twice keeps its last column, as in a dict built from the row.
        last = {name: position for position, name in enumerate(self.column_names)}
        processed = tuple(
            (position, name, processor)
            for position, (name, processor) in enumerate(
                zip(self.column_names, self.result_processors, strict=True)
            )
            if processor is not None and last[name] == position
        )
        object.__setattr__(self, "processed", processed)  # frozen: set once, here

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        values = {**self.defaults, **values} if self.defaults else values
        return tuple(
            values[name] if processor is None else processor(values[name])
            for name, processor in zip(self.parameter_names, self.bind_processors, strict=True)
        )

    def row(self, values: Sequence[Any]) -> Row:
        # The names paired with the values in C, then only the few columns with a processor
        # converted (dates, booleans, JSON: 7 of a list row's 21, none of a tag count's): a
        # comprehension testing each column took 10-15% longer a row, on every read.
        row = dict(zip(self.column_names, values, strict=True))
        for position, name, processor in self.processed:
            row[name] = processor(values[position])
        return row


def compile_query(statement: Executable, dialect: Dialect) -> Query:
    """Compile once; values are converted by the column types both ways, as SQLAlchemy would."""
    compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
    names = tuple(compiled.positiontup or ())
    bind_processors = tuple(
        compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    )
    # A SELECT's columns, or an INSERT/UPDATE/DELETE's RETURNING columns: none without one.
    columns = list(getattr(statement, "exported_columns", ()))
    keys = tuple(getattr(statement, "exported_columns", {}).keys()) if columns else ()
    processors = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
    )
    defaults = {
        name: compiled.binds[name].effective_value
        for name in names
        if not compiled.binds[name].required
    }
    return Query(compiled.string, names, bind_processors, keys, processors, defaults)


class StatementRunner(Protocol):
    dialect: Dialect
    listeners: list[StatementListener]

    async def fetch(
        self,
        query: Query,
        values: Mapping[str, Any],
        *,
        write: bool = False,
        planner: Mapping[str, str] | None = None,
    ) -> list[Row]:
        """Run one statement in its own transaction and return its processed rows.
        `planner`: settings for that transaction only (PostgreSQL's SET LOCAL)."""
        ...

    async def close(self) -> None: ...


class SQLiteRunner:
    """A writer connection (writes go in order on its thread) and a few query_only readers;
    see fastblog.db.sqlite_threads for why statements travel in batches."""

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
        self,
        query: Query,
        values: Mapping[str, Any],
        *,
        write: bool = False,
        planner: Mapping[str, str] | None = None,  # PostgreSQL's; SQLite has none of them
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
        return [query.row(row) for row in rows]

    async def close(self) -> None:
        await self._writes.close()
        await self._reads.close()


# A connection that died under us (server restart, pg_terminate_backend) or a server that
# does not answer: the connection is closed and replaced; the request gets a 503 or a retry.
PG_UNAVAILABLE = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.exceptions.OperatorInterventionError,
    OSError,
    TimeoutError,
)


# The requests' statements are short: starting parallel workers or JIT-compiling a plan costs
# more than they do. Measured on a search at a million posts (a plan whose estimates are
# high, though it reads ~3,000 rows): 7 s with both, 0.3 s without, on a loaded machine.
# Nothing is priced out here: a statement whose plan needs that says so itself (the search's
# `planner` settings, fastblog.search.postgres.PLANNER), for its own transaction only.
#
# Generic plans: the compiled road's statements are prepared once per connection and run with
# new values. PostgreSQL plans the first five runs for their values, then keeps a generic plan
# only if it looks no dearer; a page's `LIMIT $n` is guessed at a tenth of the rows, so the
# generic plan of every list looked dearer and each request was planned anew (at a million
# posts, `pg_prepared_statements` showed 30 custom plans of 30), though it was the same plan:
# the lists are written to walk an index for the page's ids whatever the values (fastblog.
# posts.queries). Kept: the tag page 0.46-0.81 -> 0.36 ms a statement, the list of 20
# 0.96-1.22 -> 0.71-0.78, the home page's 0.90-1.05 -> 0.55-0.62. A statement whose plan
# depends on its values (the searches: a word's frequency) asks for a custom plan in its
# `planner` settings.
REQUEST_SETTINGS = {
    "jit": "off",
    "max_parallel_workers_per_gather": "0",
    "plan_cache_mode": "force_generic_plan",
}


async def _fetch_planned(
    connection: asyncpg.Connection,
    sql: str,
    parameters: Sequence[Any],
    planner: Mapping[str, str],
) -> list[asyncpg.Record]:
    """The statement in a transaction of its own whose planner settings are `planner` (SET
    LOCAL: they end with it, so the connection's next statement plans as usual). Two round
    trips more than a plain statement (BEGIN, the settings; COMMIT)."""
    settings = "; ".join(f"SET LOCAL {name} = '{value}'" for name, value in planner.items())
    async with connection.transaction():
        await connection.execute(settings)
        rows: list[asyncpg.Record] = await connection.fetch(sql, *parameters)
    return rows


class PostgresRunner:
    def __init__(self, dialect: Dialect, url: str, *, pool_size: int, timeout: float) -> None:
        self.dialect = dialect
        self.listeners: list[StatementListener] = []
        self._dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        # None: asyncpg's default; False: no TLS (fastblog.db.postgres_tls says why).
        self._ssl: bool | None = False if plain_tcp_is_enough(url) else None
        self._timeout = timeout
        # Opened on first use, so the app starts (and says "not ready") while the database is
        # down, and recovers by itself when it is back (fastblog.db.pg_connections: why not
        # asyncpg's pool).
        self._connections = PostgresConnections(self._connect, size=pool_size)

    async def _connect(self) -> asyncpg.Connection:
        connection: asyncpg.Connection = await asyncpg.connect(
            self._dsn, server_settings=REQUEST_SETTINGS, ssl=self._ssl
        )
        return connection

    async def fetch(
        self,
        query: Query,
        values: Mapping[str, Any],
        *,
        write: bool = False,
        planner: Mapping[str, str] | None = None,
    ) -> list[Row]:
        for listener in self.listeners:
            listener(query.sql)
        parameters = query.parameters(values)
        # A read is safe to repeat once on a fresh connection; a write is not.
        for attempt in range(1 if write else 2):
            try:
                rows = await self._fetch_on(query.sql, parameters, planner)
            except asyncpg.IntegrityConstraintViolationError as exc:
                raise ConstraintViolationError(str(exc)) from exc
            except PG_UNAVAILABLE as exc:
                # One dead connection says the others may be dead too (a restarted or
                # overloaded server kills them all): the next statements dial afresh, as
                # the ORM road's pre-ping does, and a read tries once more on a new one.
                self._connections.expire()
                if write or attempt == 1:
                    raise DatabaseUnavailableError(str(exc) or type(exc).__name__) from exc
                continue
            return [query.row(row) for row in rows]
        raise AssertionError("unreachable")

    async def _fetch_on(
        self, sql: str, parameters: Sequence[Any], planner: Mapping[str, str] | None
    ) -> list[asyncpg.Record]:
        # One deadline for the turn, the dialling and the statement (TimeoutError: the
        # database is busy or away). A statement it cuts short closes its connection
        # (fastblog.db.pg_connections), so none goes back still busy.
        async with asyncio.timeout(self._timeout), self._connections.connection() as connection:
            if planner:
                return await _fetch_planned(connection, sql, parameters, planner)
            rows: list[asyncpg.Record] = await connection.fetch(sql, *parameters)
            return rows

    async def close(self) -> None:
        await self._connections.close()


def create_runner(settings: Settings, dialect: Dialect) -> StatementRunner:
    if settings.is_sqlite:
        path = make_url(settings.database_url).database
        if not path or path == ":memory:":
            raise ValueError("fastblog needs a SQLite file, not an in-memory database")
        return SQLiteRunner(
            dialect,
            path,
            readers=settings.sqlite_read_connections,
            busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        )
    return PostgresRunner(
        dialect,
        settings.database_url,
        pool_size=settings.db_pool_size,
        timeout=settings.db_timeout_seconds,
    )
