"""The lab can be switched off, and the thread pools take their sizes from the settings."""

import asyncio
import threading
from pathlib import Path

import anyio.to_thread
import httpx
import pytest

from fastblog.config import Settings
from tests.lab.conftest import lab_client

pytestmark = pytest.mark.anyio


async def test_the_lab_is_off_by_default(client: httpx.AsyncClient) -> None:
    """`make run` with defaults: nobody can freeze the server through the lab."""
    assert Settings.model_fields["lab_enabled"].default is False
    for path in ("/lab/io/blocking", "/lab/cpu/inline", "/lab/io/async", "/lab/fetch"):
        response = await client.get(path, params={"ms": 2000, "n": 1_000_000})
        assert response.status_code == 404, path  # no such route: nothing waits
    assert not any(
        path.startswith("/lab") for path in (await client.get("/openapi.json")).json()["paths"]
    )


async def test_the_lab_answers_when_enabled(database_url: str, media_dir: Path) -> None:
    async with lab_client(database_url, media_dir) as (_, client):
        response = await client.get("/lab/io/async", params={"ms": 0})
        paths = (await client.get("/openapi.json")).json()["paths"]
    assert response.status_code == 200
    assert {"/lab/io/blocking", "/lab/fetch", "/lab/cpu/process"} <= set(paths)


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
