"""Draining on SIGTERM (fastblog.shutdown): /ready turns 503 at once, the server keeps answering
for SHUTDOWN_GRACE_SECONDS, then stops as uvicorn does."""

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import anyio
import httpx
import pytest

from bench.live import live_server
from fastblog.resources import Resources
from fastblog.shutdown import Shutdown, drain_on_sigterm
from tests.processes import fastblog_env

pytestmark = pytest.mark.anyio


@pytest.fixture
def handed_on() -> Iterator[list[float]]:
    """A SIGTERM handler standing for uvicorn's: it notes when it is called."""
    calls: list[float] = []

    def uvicorn_handler(signum: int, frame: FrameType | None) -> None:
        calls.append(time.monotonic())

    previous = signal.signal(signal.SIGTERM, uvicorn_handler)
    yield calls
    signal.signal(signal.SIGTERM, previous)


async def wait_for(calls: list[float], count: int, seconds: float) -> None:
    """Until the handler was called `count` times (the loop must run for that to happen)."""
    for _ in range(int(seconds / 0.01)):
        if len(calls) >= count:
            return
        await anyio.sleep(0.01)
    raise AssertionError(f"called {len(calls)} times in {seconds} s, not {count}")


async def test_sigterm_drains_first_then_hands_the_signal_on(handed_on: list[float]) -> None:
    shutdown = Shutdown()
    with drain_on_sigterm(shutdown, grace_seconds=0.3):
        sent = time.monotonic()
        os.kill(os.getpid(), signal.SIGTERM)
        await wait_for(handed_on, 1, seconds=5)

        assert shutdown.draining
        assert handed_on[0] - sent >= 0.3  # served on during the grace period

        os.kill(os.getpid(), signal.SIGTERM)  # asked again: stop now
        await wait_for(handed_on, 2, seconds=1)
        assert handed_on[1] - sent < handed_on[0] - sent + 0.3

    assert signal.getsignal(signal.SIGTERM) is not None
    assert signal.getsignal(signal.SIGTERM).__name__ == "uvicorn_handler"  # type: ignore[union-attr]


async def test_no_grace_hands_the_signal_on_at_once(handed_on: list[float]) -> None:
    shutdown = Shutdown()
    with drain_on_sigterm(shutdown, grace_seconds=0):
        os.kill(os.getpid(), signal.SIGTERM)
        await wait_for(handed_on, 1, seconds=1)

    assert shutdown.draining


async def test_ready_answers_503_while_draining(
    client: httpx.AsyncClient, resources: Resources
) -> None:
    resources.shutdown.draining = True
    try:
        ready = await client.get("/ready")
        health = await client.get("/health")
    finally:
        resources.shutdown.draining = False

    assert ready.status_code == 503
    assert ready.json()["status"] == "draining"
    assert ready.json()["checks"] == {"database": "ok"}  # nothing is wrong but the shutdown
    assert health.status_code == 200  # alive: it is finishing its requests


def test_a_served_host_answers_during_its_grace_period_then_stops(
    sqlite_url: str, tmp_path: Path
) -> None:
    env = fastblog_env(sqlite_url, SHUTDOWN_GRACE_SECONDS="2")
    with (
        live_server(env, log_path=tmp_path / "server.log", cwd=tmp_path) as server,
        httpx.Client(base_url=server.url, trust_env=False, timeout=10) as client,
    ):
        assert client.get("/ready").status_code == 200
        sent = time.monotonic()
        server.terminate()
        time.sleep(0.3)  # the signal is handled between two steps of the server's loop

        ready = client.get("/ready")
        posts = client.get("/api/posts")
        assert ready.status_code == 503
        assert ready.json()["status"] == "draining"
        assert posts.status_code == 200  # still serving while the proxy takes it out

        assert server.wait() == -signal.SIGTERM
        assert time.monotonic() - sent >= 2
    assert "the server stops in 2 s" in server.log()
