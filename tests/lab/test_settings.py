"""The lab can be switched off, and the thread pools take their sizes from the settings."""

import asyncio
import threading
from pathlib import Path

import anyio.to_thread
import httpx
import pytest

from tests.lab.conftest import lab_client

pytestmark = pytest.mark.anyio


async def test_the_lab_is_on_by_default(client: httpx.AsyncClient) -> None:
    response = await client.get("/lab/io/async", params={"ms": 0})
    assert response.status_code == 200


async def test_lab_enabled_false_removes_the_routes(database_url: str, media_dir: Path) -> None:
    async with lab_client(database_url, media_dir, lab_enabled=False) as (_, client):
        for path in ("/lab/io/async", "/lab/cpu/process", "/lab/fetch"):
            response = await client.get(path)
            assert response.status_code == 404, path
            assert response.json() == {"detail": "Not Found"}
        assert (await client.get("/metrics")).status_code == 200  # monitoring stays on
        assert "/lab/io/async" not in (await client.get("/openapi.json")).json()["paths"]


async def test_thread_pools_are_sized_by_the_settings(database_url: str, media_dir: Path) -> None:
    limiter = anyio.to_thread.current_default_thread_limiter()
    tokens_before = limiter.total_tokens
    sizes = {"to_thread_workers": 3, "sync_route_threads": 7}
    async with lab_client(database_url, media_dir, **sizes):
        assert limiter.total_tokens == 7
        # asyncio.to_thread now runs in the lifespan's executor, recognisable by its name.
        name = await asyncio.to_thread(lambda: threading.current_thread().name)
        assert name.startswith("fastblog-to-thread")
    assert limiter.total_tokens == tokens_before
