"""Changing the database connections of an app that is running, without leaking one."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection


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
