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
    env = server_env(sqlite_file_url, media)
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
    # Stopped by the signal, not killed: uvicorn exits 0, or re-raises SIGTERM once it has
    # shut down (exit -15) so that a supervisor sees why it stopped.
    assert exit_code in (0, -signal.SIGTERM)
    assert "Traceback" not in server.log()
