"""The one live-server helper: `fastblog serve` as `make run` runs it, always stopped."""

import os
from pathlib import Path

import httpx
import pytest

from bench.live import FASTBLOG, RESERVED_PORTS, free_port, live_server, serve_command
from bench.upstream import create_app as create_upstream

pytestmark = pytest.mark.anyio

MAKEFILE = Path(__file__).resolve().parents[2] / "Makefile"


def test_fastblog_is_served_with_make_runs_command() -> None:
    run_recipe = MAKEFILE.read_text().split("\nrun:", 1)[1].split("\n\n", 1)[0]
    serve = "\t$(BIN)/fastblog serve --host $(HOST) --port $(PORT) --workers $(WORKERS)"
    assert serve in run_recipe.splitlines()

    assert serve_command(4321, workers=2) == [
        FASTBLOG, "serve", "--host=127.0.0.1", "--port=4321", "--workers=2"
    ]  # fmt: skip


def test_free_ports_are_loopback_ports_nobody_reserved() -> None:
    ports = {free_port() for _ in range(20)}
    assert not ports & RESERVED_PORTS


def test_a_server_is_ready_on_health_and_gone_after() -> None:
    env = {**os.environ, "LOG_LEVEL": "WARNING"}
    with live_server(env, app="bench.upstream:create_app") as server:
        assert server.get("/sleep?ms=1") == (200, b'{"waited_ms": 1}')
        process = server.process
    assert process is not None
    assert process.poll() is not None  # stopped, not left behind


async def test_the_upstream_waits_as_asked_and_bounds_the_wait() -> None:
    transport = httpx.ASGITransport(app=create_upstream())
    async with httpx.AsyncClient(transport=transport, base_url="http://upstream") as client:
        assert (await client.get("/x", params={"ms": 20})).json() == {"waited_ms": 20}
        assert (await client.get("/x", params={"ms": "junk"})).json() == {"waited_ms": 0}
