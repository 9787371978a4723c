"""The tests' database connections: changing those of an app that is running without
leaking one, and finding any connection a test leaves open."""

import asyncio
import sys
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import aiosqlite
import greenlet
from sqlalchemy import Connection, Engine, event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import ConnectionPoolEntry, Pool, PoolProxiedConnection


@contextmanager
def on_each_connection(engine: AsyncEngine, prepare: Callable[[Any], None]) -> Iterator[None]:
    """`prepare(dbapi_connection)` runs once on each of the engine's connections, the pooled
    ones included, before its next use inside the block.

    Not a "connect" listener and `engine.dispose()` to make the pooled connections new: on a
    running app a background task (the outbox, the newsletter sender) may hold a connection
    during the dispose, and it goes back to the discarded pool, where nothing closes it.
    aiosqlite then warns that it "was deleted before being closed" whenever the collector
    finds it, in whichever later test is running."""
    prepared = object()  # this block's mark in each connection's info

    def on_checkout(
        dbapi_connection: Any, entry: ConnectionPoolEntry, _proxy: PoolProxiedConnection
    ) -> None:
        if prepared not in entry.info:
            prepare(dbapi_connection)
            entry.info[prepared] = True

    event.listen(engine.sync_engine, "checkout", on_checkout)
    try:
        yield
    finally:
        event.remove(engine.sync_engine, "checkout", on_checkout)


PROJECT = f"{Path(__file__).resolve().parent.parent}/"
CLOSE_SECONDS = 10  # a leaked connection's thread is idle: closing it takes milliseconds


class OpenConnections:
    """Every aiosqlite connection the tests open, checked at the end of each test module: one
    still open then that nothing can close any more is a leak, and fails the module's last
    test, naming the test that opened it and the line.

    Without this the garbage collector finds a leaked connection whenever it runs: its
    ResourceWarning then fails whichever test is running, far from the one that leaked it.
    So each new connection is held until its module's check. Then it is closed, or leaked
    (fails), or still in the current pool of a live engine: let go, for the session's apps
    keep theirs open across modules. An engine a test never disposes is not told apart from
    those here; its connections still warn, and fail, when the collector finds them.
    Cost: a dict entry per connection and a listener call per engine checkout.
    """

    def __init__(self) -> None:
        self.test = "(collection)"
        # Held, not weakly: a leaked connection must wait for its module's check.
        self._made: dict[aiosqlite.Connection, str] = {}
        # The engine and pool that last lent each connection out (SQLAlchemy's).
        self._lent_by: weakref.WeakKeyDictionary[
            aiosqlite.Connection, tuple[weakref.ref[Engine], weakref.ref[Pool]]
        ] = weakref.WeakKeyDictionary()
        self._connect: Callable[..., aiosqlite.Connection] | None = None

    def install(self) -> None:
        self._connect = connect = aiosqlite.connect

        def tracked_connect(*args: Any, **kwargs: Any) -> aiosqlite.Connection:
            connection = connect(*args, **kwargs)
            self._made[connection] = f"{self.test}, at {_caller()}"
            return connection

        aiosqlite.connect = tracked_connect
        event.listen(Engine, "engine_connect", self._lent)

    def uninstall(self) -> None:
        if self._connect is not None:
            aiosqlite.connect = self._connect
            event.remove(Engine, "engine_connect", self._lent)

    def _lent(self, connection: Connection) -> None:
        driver_connection = connection.connection.driver_connection
        if isinstance(driver_connection, aiosqlite.Connection):
            engine = connection.engine
            self._lent_by[driver_connection] = (weakref.ref(engine), weakref.ref(engine.pool))

    def leaks(self) -> list[str]:
        """The connections made since the last check that are left open with nothing to
        close them, described, and closed (on an event loop of their own: the one that
        opened them may be gone)."""
        found = []
        for connection, made in list(self._made.items()):
            del self._made[connection]
            if _is_open(connection) and (why := self._why_open(connection)) is not None:
                asyncio.run(asyncio.wait_for(connection.close(), CLOSE_SECONDS))
                found.append(f"made in {made}: {why}")
        return found

    def _why_open(self, connection: aiosqlite.Connection) -> str | None:
        """Why nothing will close it; None while a live engine's current pool holds it."""
        engine_and_pool = self._lent_by.get(connection)
        if engine_and_pool is None:
            return "no engine lent it out (a bare aiosqlite.connect, never closed?)"
        engine, pool = engine_and_pool[0](), engine_and_pool[1]()
        if engine is None:
            return "its engine was dropped without engine.dispose()"
        if engine.pool is not pool:
            return (
                "checked out during engine.dispose(), it went back to the pool the engine"
                " discarded, which nothing closes"
            )
        return None


def _is_open(connection: aiosqlite.Connection) -> bool:
    # What aiosqlite's own __del__ reads to decide that a connection was left open.
    return connection._connection is not None


def _caller() -> str:
    """The innermost line of the tests or the app that is opening a connection, across
    SQLAlchemy's greenlets (each has the stack from its start only)."""
    glet: greenlet.greenlet | None = greenlet.getcurrent()
    frame: FrameType | None = sys._getframe(2)
    while True:
        while frame is not None:
            filename = frame.f_code.co_filename
            if filename.startswith(PROJECT) and "/.venv/" not in filename:
                return f"{filename.removeprefix(PROJECT)}:{frame.f_lineno}"
            frame = frame.f_back
        glet = glet.parent if glet is not None else None
        if glet is None or glet.gr_frame is None:
            return "(no line of ours)"
        frame = glet.gr_frame
