"""The event-loop monitor and /metrics: a blocked loop is measured, logged and named."""

import logging
import time
from pathlib import Path

import anyio
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from fastblog.observability.loop_monitor import summarize
from fastblog.observability.requests import RequestTracker
from tests.lab.conftest import lab_client

pytestmark = pytest.mark.anyio

MONITOR_LOGGER = "fastblog.observability.loop_monitor"


def samples(exposition: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a Prometheus text exposition, keyed by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


async def lag_max(client: httpx.AsyncClient) -> float:
    response = await client.get("/metrics")
    assert response.status_code == 200
    return samples(response.text)[("fastblog_event_loop_lag_seconds_max", frozenset())]


async def test_a_blocking_request_is_measured_and_named(
    database_url: str, media_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=MONITOR_LOGGER)
    async with lab_client(database_url, media_dir) as (_, client):
        response = await client.get("/lab/io/blocking", params={"ms": 300})
        assert response.status_code == 200
        # The monitor runs once the loop is free again: give it a moment (at most 10 s).
        for _ in range(500):
            if await lag_max(client) >= 0.25:
                break
            await anyio.sleep(0.02)
        assert await lag_max(client) >= 0.25
    warnings = [
        record.getMessage()
        for record in caplog.records
        if record.name == MONITOR_LOGGER and record.levelno == logging.WARNING
    ]
    assert any("GET /lab/io/blocking" in message for message in warnings), warnings
    assert any("Event loop blocked for" in message for message in warnings), warnings


async def test_metrics_label_requests_by_route_template(lab: httpx.AsyncClient) -> None:
    await lab.get("/api/posts/987654")  # no such post: a 404 on a templated route
    await lab.get("/no/such/page")
    exposition = (await lab.get("/metrics")).text
    found = samples(exposition)
    by_template = frozenset(
        {("method", "GET"), ("route", "/api/posts/{post_id}"), ("status", "404")}
    )
    assert found[("fastblog_http_requests_total", by_template)] >= 1
    assert found[("fastblog_http_request_duration_seconds_count", by_template)] >= 1
    unmatched = frozenset({("method", "GET"), ("route", "<unmatched>"), ("status", "404")})
    assert found[("fastblog_http_requests_total", unmatched)] >= 1
    assert "/api/posts/987654" not in exposition  # raw paths would make labels unbounded


async def test_metrics_report_loop_lag_and_database_pool(lab: httpx.AsyncClient) -> None:
    response = await lab.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    found = samples(response.text)
    assert found[("fastblog_event_loop_lag_seconds_count", frozenset())] >= 1
    # The app's background tasks (the outbox, the post watcher) may hold one at this instant.
    checked_out = found[("fastblog_db_pool_checked_out_connections", frozenset())]
    assert checked_out in (0, 1, 2), checked_out


def test_the_tracker_names_requests_that_overlapped_a_window() -> None:
    tracker = RequestTracker()
    before = tracker.begin("GET /before")
    tracker.end(before)
    time.sleep(0.01)
    since = time.monotonic()
    finished = tracker.begin("GET /finished")
    still_running = tracker.begin("GET /running")
    tracker.end(finished)
    until = time.monotonic()
    assert tracker.during(since, until) == ["GET /finished", "GET /running"]
    assert tracker.during(until + 1, until + 2) == ["GET /running"]
    assert still_running.ended is None


def test_the_summary_counts_repeats_and_stays_short() -> None:
    assert summarize([]) == "none"
    assert summarize(["GET /a", "GET /b", "GET /a"]) == "GET /a (x2), GET /b"
    many = [f"GET /{n}" for n in range(8)]
    assert summarize(many).endswith("GET /4, and 3 more")
