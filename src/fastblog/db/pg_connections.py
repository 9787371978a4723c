"""The compiled road's PostgreSQL connections: a few asyncpg connections, opened on first use,
each kept for the next statement once its own is done, taken in the order they were asked for.

Why not asyncpg's pool: its `acquire(timeout=…)` runs the wait in a task of its own on
Python 3.11 (asyncpg's `wait_for` backport) and its `release()` in another
(`asyncio.shield`), with a holder and a proxy object each time. Measured with callgrind
(`bench.request_cpu --instructions`, PostgreSQL, 1,000 posts), the app's instructions a
request: one post 1.16 -> 0.91 M, the list of 20 3.36 -> 3.10, a user's tagged posts 2.92 ->
2.66, ~0.25 M a statement; in CPU time (`SELECT $1` one at a time on uvloop, a noisy
machine) 110-160 us a statement through the pool, 35-100 through this. What the pool did
that this must do too:

- **Turns, first come first served**: Python's semaphore wakes its waiters in order and lets
  nobody pass them (asyncpg's queue let a newcomer take a connection released for the longest
  waiter: under load some requests lost their turn over and over, see
  docs/performance.md, "PostgreSQL's long tail").
- **No connection in doubt goes back**: a statement cut short (a timeout, a cancelled
  request) or a connection that failed is closed, never reused; a statement that PostgreSQL
  refused (a constraint, a bad value) leaves its connection ready, and it is kept.
- **A database that restarted**: `expire()` closes the idle connections and marks those in
  use to be closed when they come back, so the next statements dial afresh.

What it leaves out: a floor of idle connections (none: a database that is down would be
dialled again and again), closing connections idle for long, and a cap on a connection's
statements (its prepared statements are asyncpg's LRU cache of 100).
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg

Connect = Callable[[], Awaitable[asyncpg.Connection]]


class PostgresConnections:
    """At most `size` connections to one database, for one statement (or transaction) at a
    time each. Timeouts are the caller's (`asyncio.timeout` around `connection()`)."""

    def __init__(self, connect: Connect, *, size: int) -> None:
        self._connect = connect
        self._turns = asyncio.Semaphore(size)
        self._idle: list[asyncpg.Connection] = []  # the last one given back is taken first
        self._generation = 0  # moved on by expire(): connections of an older one are closed
        self._closed = False

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection for this caller alone until the block ends (waiting for a turn first)."""
        async with self._turns:
            if self._closed:
                raise asyncpg.InterfaceError("the connections are closed")
            generation = self._generation
            connection = self._idle.pop() if self._idle else await self._connect()
            try:
                yield connection
            except asyncpg.PostgresError:
                # PostgreSQL answered (a constraint, a bad value): the connection is ready for
                # the next statement, unless it died meanwhile (checked below).
                self._give_back(connection, generation)
                raise
            except BaseException:
                # Cut short mid-statement (a timeout, a cancel) or broken: in doubt, closed.
                connection.terminate()
                raise
            self._give_back(connection, generation)

    def _give_back(self, connection: asyncpg.Connection, generation: int) -> None:
        reusable = (
            not self._closed
            and generation == self._generation
            and not connection.is_closed()
            and not connection.is_in_transaction()
        )
        if reusable:
            self._idle.append(connection)
        else:
            connection.terminate()

    def expire(self) -> None:
        """The database may have restarted: close the idle connections now and the others when
        they come back; the next statements open new ones."""
        self._generation += 1
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.terminate()

    async def close(self) -> None:
        """Close the idle connections (politely: PostgreSQL is told); connections in use are
        closed when they come back."""
        self._closed = True
        idle, self._idle = self._idle, []
        await asyncio.gather(
            *(connection.close(timeout=5) for connection in idle), return_exceptions=True
        )
