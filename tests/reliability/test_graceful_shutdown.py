"""SIGTERM while a request is in flight: the request completes, then the server exits cleanly."""

import asyncio
import signal
from pathlib import Path

import anyio
import httpx
import pytest

from tests.reliability.app import SLOW_STARTED
from tests.reliability.server import server_env, serving

pytestmark = pytest.mark.anyio


async def wait_for(path: Path) -> None:
    with anyio.fail_after(20):
        while not await anyio.Path(path).exists():  # noqa: ASYNC110 (a file, not an event)
            await asyncio.sleep(0.05)


async def test_a_request_in_flight_completes_on_sigterm(
    sqlite_file_url: str, tmp_path: Path
) -> None:
    media = tmp_path / "media"
    # uvicorn says what it does, and logs each request
    env = server_env(sqlite_file_url, media, log_level="INFO", access_log="true")
    async with (
        serving(env, tmp_path / "server.log") as server,
        httpx.AsyncClient(base_url=server.url, timeout=30) as client,
    ):
        in_flight = asyncio.create_task(client.get("/test/slow", params={"seconds": 3}))
        await wait_for(media / SLOW_STARTED)

        server.terminate()  # what systemd, Docker or Kubernetes send to stop a server
        response = await in_flight

        assert response.status_code == 200
        assert response.json() == {"slept": 3}
        exit_code = await anyio.to_thread.run_sync(server.wait)
    # uvicorn shuts down, then re-raises the SIGTERM it caught so that a supervisor sees why
    # it stopped: -15, as a plain kill would give too, so the log tells them apart. Graceful:
    # it waited for the request, which finished, then ran the app's shutdown, then exited.
    assert exit_code == -signal.SIGTERM
    log = server.log()
    assert "Traceback" not in log
    steps = [
        "Shutting down",
        "Waiting for connections to close",
        '"GET /test/slow?seconds=3 HTTP/1.1" 200',
        "Application shutdown complete.",
        "Finished server process",
    ]
    assert all(step in log for step in steps), log
    assert [log.index(step) for step in steps] == sorted(log.index(step) for step in steps), log
