"""SQLite for the hot path: connections on threads of their own, statements sent in batches.

sqlite3 is a blocking library, so its calls run on a thread, never on the event loop. A
trip to a thread and back costs more than an indexed read itself (tens of microseconds
against ten, measured), and under load the loop spent more of its time on those trips
than on anything else. So a connection that is busy does not get a trip per statement:
the statements that queue meanwhile go together in the next trip. With one request in
flight that is one statement per trip, as before; with 64 it is many.

No result is shared and nothing is cached: every request's statement runs after the
request arrived. The connections are in autocommit (isolation_level=None): a statement
is its own transaction and never holds SQLite's write lock across a trip.
"""

import asyncio
import functools
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

Statement = tuple[str, Sequence[Any]]
MAX_BATCH = 64


def tuning_pragmas(busy_timeout_ms: int) -> tuple[str, ...]:
    """Every SQLite connection of the app, SQLAlchemy's and the hot path's, runs these.

    WAL lets readers go on while one writer writes; NORMAL is durable in WAL except for
    the last transactions on power loss, and much faster than FULL.
    """
    return (
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=NORMAL",
        f"PRAGMA busy_timeout={int(busy_timeout_ms)}",
        "PRAGMA foreign_keys=ON",
    )


class SQLiteConnection:
    """One sqlite3 connection and the one thread that opens, uses and closes it."""

    def __init__(
        self,
        path: str,
        *,
        query_only: bool,
        busy_timeout_ms: int,
        on_connect: list[Callable[[sqlite3.Connection], None]],
    ) -> None:
        self._path = path
        self._on_connect = on_connect
        self._query_only = query_only
        self._busy_timeout_ms = busy_timeout_ms
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fastblog-sqlite")
        self._connection: sqlite3.Connection | None = None

    def submit(
        self, loop: asyncio.AbstractEventLoop, statements: list[Statement]
    ) -> asyncio.Future[list[list[Any] | Exception]]:
        return loop.run_in_executor(self._executor, self._run, statements)

    def _run(self, statements: list[Statement]) -> list[list[Any] | Exception]:
        connection = self._connection or self._connect()
        results: list[list[Any] | Exception] = []
        for sql, parameters in statements:
            try:
                results.append(connection.execute(sql, parameters).fetchall())
            except sqlite3.Error as exc:  # one statement's failure is its own
                results.append(exc)
        return results

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self._path, isolation_level=None, timeout=self._busy_timeout_ms / 1000
        )
        try:
            for pragma in tuning_pragmas(self._busy_timeout_ms):
                connection.execute(pragma)
            connection.execute(f"PRAGMA query_only={'ON' if self._query_only else 'OFF'}")
            for hook in self._on_connect:
                hook(connection)
        except sqlite3.Error:
            connection.close()
            raise
        self._connection = connection
        return connection

    async def close(self) -> None:
        def close_in_thread() -> None:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, close_in_thread)
        await asyncio.to_thread(self._executor.shutdown, wait=True)


class BatchingLane:
    """Statements waiting for a group of connections, handed out a batch per trip."""

    def __init__(self, connections: list[SQLiteConnection]) -> None:
        self._connections = connections
        self._idle = list(connections)
        self._pending: list[tuple[Statement, asyncio.Future[list[Any]]]] = []
        self._dispatch_scheduled = False

    async def execute(self, sql: str, parameters: Sequence[Any]) -> list[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Any]] = loop.create_future()
        self._pending.append(((sql, parameters), future))
        self._schedule(loop)
        return await future

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        # After the callbacks already queued on the loop: the requests that are ready
        # now add their statements first, and all of them leave in one trip.
        if self._idle and self._pending and not self._dispatch_scheduled:
            self._dispatch_scheduled = True
            loop.call_soon(self._dispatch, loop)

    def _dispatch(self, loop: asyncio.AbstractEventLoop) -> None:
        self._dispatch_scheduled = False
        while self._idle and self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            batch = [(statement, future) for statement, future in batch if not future.done()]
            if not batch:
                continue
            connection = self._idle.pop()
            trip = connection.submit(loop, [statement for statement, _ in batch])
            trip.add_done_callback(functools.partial(self._finish, loop, connection, batch))

    def _finish(
        self,
        loop: asyncio.AbstractEventLoop,
        connection: SQLiteConnection,
        batch: list[tuple[Statement, asyncio.Future[list[Any]]]],
        trip: asyncio.Future[list[list[Any] | Exception]],
    ) -> None:
        self._idle.append(connection)
        try:
            results: Sequence[list[Any] | BaseException] = trip.result()
        except BaseException as exc:  # the trip itself failed (e.g. cannot open the file)
            results = [exc] * len(batch)
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():  # the request was cancelled meanwhile
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)
        self._schedule(loop)

    async def close(self) -> None:
        for connection in self._connections:
            await connection.close()
