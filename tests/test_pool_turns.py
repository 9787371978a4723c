"""Under load, a request waits for the requests that asked for a database connection before it,
no more: PostgreSQL's pool serves them first come, first served.

asyncpg's pool alone let a newcomer take a connection released for the longest waiter, who then
queued again at the back; at a million posts the list of 20 answered half its requests within
78 ms and a tenth after 570 ms (docs/performance.md)."""

import asyncio
from datetime import datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect

from fastblog.db.compiled import PostgresRunner, compile_query

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

REQUESTS = 150
ARRIVAL_GAP_SECONDS = 0.002  # a new request every 2 ms ...
# ... each holding the one connection for 5 ms: the queue grows the whole time.
STATEMENT = select(func.clock_timestamp().label("at"), func.pg_sleep(0.005).label("slept"))


async def test_each_request_gets_the_connection_in_the_order_it_asked(postgres_url: str) -> None:
    runner = PostgresRunner(asyncpg_dialect(), postgres_url, pool_size=1, timeout=30)
    query = compile_query(STATEMENT, runner.dialect)
    await runner.fetch(query, {})  # the pool's one connection, dialled before the rush
    started_at: dict[int, datetime] = {}

    async def request(number: int) -> None:
        await asyncio.sleep(number * ARRIVAL_GAP_SECONDS)
        (row,) = await runner.fetch(query, {})
        started_at[number] = row["at"]

    try:
        async with asyncio.TaskGroup() as requests:
            for number in range(REQUESTS):
                requests.create_task(request(number))
    finally:
        await runner.close()

    served = sorted(started_at, key=started_at.__getitem__)
    assert served == list(range(REQUESTS))
