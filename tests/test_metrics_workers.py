"""`fastblog serve --workers 2`: one scrape of /metrics describes both workers."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import anyio
import httpx
import pytest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from bench.live import live_server_async
from fastblog.observability.metrics import forget_dead_workers
from tests.migrated import migrated_sqlite
from tests.processes import fastblog_env

REQUESTS = 120
CLIENTS = 8
SCRAPES = 6
POSTS = {"method": "GET", "route": "/api/posts", "status": "200"}


def samples(exposition: str, name: str) -> list[tuple[dict[str, str], float]]:
    return [
        (sample.labels, sample.value)
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == name
    ]


def answered(exposition: str, labels: dict[str, str]) -> float:
    return sum(
        value
        for found, value in samples(exposition, "fastblog_http_requests_total")
        if found == labels
    )


def counted_by_each_worker(folder: Path) -> dict[int, float]:
    """Each worker's own count of the requests, read from its file alone."""
    counts = {}
    for path in folder.glob("counter_*.db"):
        pid = int(path.stem.removeprefix("counter_"))
        metrics = MultiProcessCollector.merge([str(path)])
        counts[pid] = sum(
            sample.value
            for metric in metrics
            for sample in metric.samples
            if sample.name == "fastblog_http_requests_total" and sample.labels == POSTS
        )
    return counts


async def both_workers_started(log_path: Path) -> None:
    """The server answers once its first worker is up; the second may still be starting."""
    log = anyio.Path(log_path)
    for _ in range(600):  # at most a minute
        if (await log.read_text()).count("Application startup complete.") >= 2:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the second worker did not start:\n{await log.read_text()}")


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return migrated_sqlite(tmp_path / "fastblog.db")


@pytest.mark.anyio
async def test_one_scrape_counts_the_requests_of_both_workers(
    database_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_999999.db").write_bytes(b"left over from an earlier run")
    env = fastblog_env(
        database_url,
        media_dir=str(tmp_path / "media"),
        process_pool_workers="1",
        prometheus_multiproc_dir=str(folder),
    )

    log_path = tmp_path / "server.log"
    async with live_server_async(env, workers=2, log_path=log_path, cwd=tmp_path) as server:
        await both_workers_started(log_path)
        # A new connection per request, so that both workers take some.
        limits = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(
            base_url=server.url, limits=limits, timeout=30, trust_env=False
        ) as client:
            gate = asyncio.Semaphore(CLIENTS)

            async def read_posts() -> int:
                async with gate:
                    return (await client.get("/api/posts")).status_code

            statuses = await asyncio.gather(*(read_posts() for _ in range(REQUESTS)))
            assert statuses == [200] * REQUESTS
            # No pause for the pool's gauge: each worker samples its pool as it starts (and
            # every second after), long before it has served its share of the requests.
            scrapes = [(await client.get("/metrics")).text for _ in range(SCRAPES)]

        per_worker = counted_by_each_worker(folder)

    assert [answered(scrape, POSTS) for scrape in scrapes] == [REQUESTS] * SCRAPES
    assert len(per_worker) == 2, per_worker
    assert all(count > 0 for count in per_worker.values()), per_worker
    assert sum(per_worker.values()) == REQUESTS
    # Gauges are one number for the host, not one per worker.
    for gauge in (
        "fastblog_event_loop_lag_seconds_max",
        "fastblog_db_pool_checked_out_connections",
    ):
        assert [labels for labels, _ in samples(scrapes[-1], gauge)] == [{}], gauge
    # Workers that stopped dropped their live gauges; their counters stay.
    assert not list(folder.glob("gauge_live*"))
    assert len(list(folder.glob("counter_*.db"))) == 2
    log = log_path.read_text()
    assert log.count("Serving with 2 worker processes and no REDIS_URL") == 1, log


def test_the_live_gauges_of_a_dead_worker_are_forgotten(tmp_path: Path) -> None:
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead, alive = int(finished.stdout), os.getpid()
    for pid in (dead, alive):
        (tmp_path / f"gauge_livesum_{pid}.db").write_bytes(b"")
        (tmp_path / f"counter_{pid}.db").write_bytes(b"")

    forget_dead_workers(tmp_path)

    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [f"counter_{dead}.db", f"counter_{alive}.db", f"gauge_livesum_{alive}.db"]
    )
