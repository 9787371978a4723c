"""Schema changes (DDL) in a transaction, on a database that a server may be serving.

PostgreSQL: DROP INDEX, CREATE INDEX, ALTER TABLE … DISABLE TRIGGER and CREATE TRIGGER each
lock their table, and DROP INDEX the strongest way (ACCESS EXCLUSIVE: not even a read gets
past). Taken one by one, mid-transaction, those locks are upgrades over what the transaction
already holds, and the blog's own transactions hold the weaker ones in between: a request that
read posts (ACCESS SHARE, which a weaker lock lets through) then waits to write posts behind
us, while we wait for its read to end. That is a deadlock; PostgreSQL breaks it after
`deadlock_timeout` (1 s) by failing one side, the request (a 500) or the command. Measured:
`fastblog seed` and the search index rebuild, run against a served blog under light load,
deadlocked in 5 runs out of 5 before this.

So a transaction that changes the schema of tables the blog uses takes every lock it will need
first, in one statement, and waits for it a short while only (LOCK_ATTEMPT_MS, well under
`deadlock_timeout`): if a request holds part of it, we give up first, roll back (nothing was
done yet), let the requests through and try again. Requests then wait for us, never the
other way round, and nobody deadlocks.

SQLite needs nothing of the kind: its writers take the one database lock up front (BEGIN
IMMEDIATE), and a schema change another connection committed is picked up by every
connection on its next statement (SQLite re-reads the schema and prepares the statement
again), measured under load with FTS5's triggers (tests/reliability/
test_maintenance_while_serving.py).
"""

import asyncio
import time
from collections.abc import Sequence

from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

LOCK_ATTEMPT_MS = 200  # each try; PostgreSQL's deadlock_timeout is 1 s by default
LOCK_PATIENCE_SECONDS = 120.0  # all tries together, then the command says so and stops
# Lock not available (our lock_timeout), deadlock detected (should PostgreSQL pick us anyway).
_GAVE_WAY = {"55P03", "40P01"}


class SchemaLockTimeoutError(RuntimeError):
    pass


def _gave_way(exc: sa_exc.DBAPIError) -> bool:
    return getattr(exc.orig, "sqlstate", None) in _GAVE_WAY


async def lock_for_schema_change(
    transaction: AsyncConnection | AsyncSession,
    tables: Sequence[str],
    *,
    patience: float = LOCK_PATIENCE_SECONDS,
) -> None:
    """At the start of `transaction` (nothing done in it yet: it may be rolled back and begun
    again), lock `tables` against everyone else until it ends. PostgreSQL only; on SQLite,
    nothing. `tables` in the order the app's transactions take them (a post before its tags)."""
    bind = transaction if isinstance(transaction, AsyncConnection) else transaction.get_bind()
    if bind.dialect.name != "postgresql" or not tables:
        return
    names = ", ".join(f'"{table}"' for table in tables)
    deadline = time.monotonic() + patience
    pause = 0.05
    while True:
        try:
            await transaction.execute(text(f"SET LOCAL lock_timeout = '{LOCK_ATTEMPT_MS}ms'"))
            await transaction.execute(text(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE"))
            await transaction.execute(text("SET LOCAL lock_timeout = 0"))
            # The versions' triggers run at commit (migrations 0029, 0031), and PostgreSQL
            # refuses to alter or index a table with such events pending: in a transaction
            # that changes the schema they run as their rows are written.
            await transaction.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
            return
        except sa_exc.DBAPIError as exc:
            if not _gave_way(exc):
                raise
            await transaction.rollback()
            if time.monotonic() > deadline:
                raise SchemaLockTimeoutError(
                    f"Could not lock {names} for {patience:.0f} s: the blog kept them busy. "
                    "Try again at a quieter moment, or with the blog stopped."
                ) from exc
        # The requests that held us up finish meanwhile; a little longer each time.
        await asyncio.sleep(pause)
        pause = min(pause * 2, 1.0)
