"""Many writers at once through a real server: none is refused, none is lost."""

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest

from fastblog.cli import upgrade_database
from tests.factories import api_create_post, api_create_user
from tests.processes import FASTBLOG, count_rows, fastblog_env, unused_loopback_port

pytestmark = pytest.mark.anyio

WRITERS = 100
STARTUP_DEADLINE_SECONDS = 60  # a generous bound on a busy machine, not a measurement


def wait_until_healthy(base_url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the server exited with {server.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base_url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"the server did not answer /health:\n{log.read_text()}")


@pytest.fixture
def server(fresh_database_url: str, tmp_path: Path) -> Iterator[str]:
    """`fastblog serve` on a free loopback port, on a freshly migrated database."""
    upgrade_database(fresh_database_url)
    port = unused_loopback_port()
    base_url = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [FASTBLOG, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
            env=fastblog_env(fresh_database_url, LOG_LEVEL="WARNING"),
            cwd=tmp_path,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_healthy(base_url, process, log)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def test_100_simultaneous_posts_are_all_created(server: str, fresh_database_url: str) -> None:
    limits = httpx.Limits(max_connections=WRITERS)
    async with httpx.AsyncClient(base_url=server, timeout=120, limits=limits) as client:
        created = await api_create_user(client)
        assert created.status_code == 201, created.text
        author = created.json()
        statuses: list[int] = []

        async def write(n: int) -> None:
            response = await api_create_post(client, author, title=f"Post {n}")
            statuses.append(response.status_code)

        async with anyio.create_task_group() as group:
            for n in range(WRITERS):
                group.start_soon(write, n)

        listing = (await client.get("/api/posts", params={"limit": 100})).json()

    assert statuses == [201] * WRITERS
    assert listing["total"] == WRITERS
    assert {post["title"] for post in listing["posts"]} == {f"Post {n}" for n in range(WRITERS)}
    assert await count_rows(fresh_database_url) == (1, WRITERS)
