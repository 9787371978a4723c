"""Many writers at once through a real server: none is refused, none is lost."""

from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest

from bench.live import live_server
from tests.factories import api_create_post, api_create_user
from tests.processes import count_rows, fastblog_env

pytestmark = pytest.mark.anyio

WRITERS = 100


@pytest.fixture
def server(migrated_database_url: str, tmp_path: Path) -> Iterator[str]:
    """`fastblog serve` on a free loopback port, on a freshly migrated database."""
    # One author writes 100 posts at once: a test of concurrency, not of the write budget.
    env = fastblog_env(migrated_database_url, LOG_LEVEL="WARNING", WRITE_RATE_LIMITS="false")
    with live_server(env, log_path=tmp_path / "server.log", cwd=tmp_path) as server:
        yield server.url


async def test_100_simultaneous_posts_are_all_created(
    server: str, migrated_database_url: str
) -> None:
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
    assert await count_rows(migrated_database_url) == (1, WRITERS)
