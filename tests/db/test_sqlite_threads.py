"""The SQLite lane of the compiled road: statements queue while a connection is busy and
leave together; each keeps its own result, its own failure and its own cancellation."""

import asyncio
import sqlite3
from pathlib import Path

import pytest

from fastblog.db.sqlite_threads import BatchingLane, SQLiteConnection

pytestmark = pytest.mark.anyio


def connection(path: Path) -> SQLiteConnection:
    return SQLiteConnection(str(path), query_only=False, busy_timeout_ms=1000, on_connect=[])


@pytest.fixture
async def lane(tmp_path: Path) -> BatchingLane:
    path = tmp_path / "lane.db"
    with sqlite3.connect(path) as setup:
        setup.execute("CREATE TABLE t (n INTEGER)")
        setup.executemany("INSERT INTO t VALUES (?)", [(n,) for n in range(10)])
    lane = BatchingLane([connection(path)])
    yield lane
    await lane.close()


async def test_statements_sent_together_each_get_their_own_rows(lane: BatchingLane) -> None:
    results = await asyncio.gather(
        *(lane.execute("SELECT n FROM t WHERE n = ?", (n,)) for n in range(10))
    )

    assert [rows for rows in results] == [[(n,)] for n in range(10)]


async def test_one_failing_statement_fails_alone(lane: BatchingLane) -> None:
    good, bad, also_good = await asyncio.gather(
        lane.execute("SELECT count(*) FROM t", ()),
        lane.execute("SELECT * FROM no_such_table", ()),
        lane.execute("SELECT max(n) FROM t", ()),
        return_exceptions=True,
    )

    assert good == [(10,)]
    assert isinstance(bad, sqlite3.OperationalError)
    assert "no_such_table" in str(bad)
    assert also_good == [(9,)]


async def test_a_cancelled_statement_leaves_the_others_and_the_lane_working(
    lane: BatchingLane,
) -> None:
    first = asyncio.ensure_future(lane.execute("SELECT count(*) FROM t", ()))
    cancelled = asyncio.ensure_future(lane.execute("SELECT 1", ()))
    await asyncio.sleep(0)  # both queued
    cancelled.cancel()

    assert await first == [(10,)]
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert await lane.execute("SELECT min(n) FROM t", ()) == [(0,)]


async def test_a_write_is_committed_by_itself(lane: BatchingLane, tmp_path: Path) -> None:
    await lane.execute("INSERT INTO t VALUES (?)", (42,))

    with sqlite3.connect(tmp_path / "lane.db") as other:  # another connection sees it at once
        assert other.execute("SELECT count(*) FROM t WHERE n = 42").fetchone() == (1,)


async def test_a_failed_trip_fails_its_statements_and_the_lane_recovers(tmp_path: Path) -> None:
    missing_folder = tmp_path / "not-yet"
    lane = BatchingLane([connection(missing_folder / "later.db")])
    try:
        results = await asyncio.gather(
            lane.execute("SELECT 1", ()), lane.execute("SELECT 2", ()), return_exceptions=True
        )
        assert all(isinstance(result, sqlite3.OperationalError) for result in results)

        missing_folder.mkdir()  # the database becomes reachable: the same lane now works
        assert await lane.execute("SELECT 3", ()) == [(3,)]
    finally:
        await lane.close()
