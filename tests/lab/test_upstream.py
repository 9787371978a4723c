"""Calls to an upstream through the shared client: one, two at once, and failures as 502."""

from pathlib import Path

import httpx
import pytest

from tests.lab.conftest import lab_client

pytestmark = pytest.mark.anyio


async def test_fetch_calls_the_configured_upstream(
    lab: httpx.AsyncClient, upstream_server: str
) -> None:
    response = await lab.get("/lab/fetch", params={"ms": 50})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["mode"] == "fetch"
    assert body["upstream"] == f"{upstream_server}/lab/io/async"
    assert body["elapsed_ms"] >= 45


async def test_concurrent_calls_take_about_the_longer_not_the_sum(lab: httpx.AsyncClient) -> None:
    response = await lab.get("/lab/concurrent", params={"ms": 400})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["mode"] == "concurrent"
    assert len(body["calls_ms"]) == 2
    assert all(call >= 395 for call in body["calls_ms"])
    assert body["sum_ms"] == pytest.approx(sum(body["calls_ms"]), abs=0.01)
    # One after the other would take the sum (800 ms or more); overlapped, about 400.
    assert body["elapsed_ms"] < 0.9 * body["sum_ms"]


async def test_without_an_upstream_setting_the_app_calls_itself(upstream_server: str) -> None:
    """Over real HTTP: the upstream server has no LAB_UPSTREAM_URL, so it calls its own socket."""
    async with httpx.AsyncClient(base_url=upstream_server, timeout=30) as client:
        fetched = await client.get("/lab/fetch", params={"ms": 20})
        gathered = await client.get("/lab/concurrent", params={"ms": 20})
    assert fetched.status_code == 200, fetched.text
    assert fetched.json()["upstream"] == f"{upstream_server}/lab/io/async"
    assert gathered.status_code == 200, gathered.text


@pytest.mark.parametrize("path", ["/lab/fetch", "/lab/concurrent"])
async def test_an_unreachable_upstream_is_a_502(
    database_url: str, media_dir: Path, closed_port_url: str, path: str
) -> None:
    async with lab_client(database_url, media_dir, lab_upstream_url=closed_port_url) as (_, c):
        response = await c.get(path, params={"ms": 10})
    assert response.status_code == 502
    assert response.json()["detail"].startswith(f"Upstream {closed_port_url} unreachable")


@pytest.mark.parametrize("path", ["/lab/fetch", "/lab/concurrent"])
async def test_an_upstream_error_status_is_a_502(
    database_url: str, media_dir: Path, failing_server: str, path: str
) -> None:
    url = f"{failing_server}/anything"
    async with lab_client(database_url, media_dir, lab_upstream_url=url) as (_, client):
        response = await client.get(path, params={"ms": 10})
    assert response.status_code == 502
    assert response.json()["detail"] == f"Upstream {url} answered HTTP 500"


async def test_a_slow_upstream_times_out_as_a_502(
    database_url: str, media_dir: Path, upstream_server: str
) -> None:
    url = f"{upstream_server}/lab/io/async"
    settings = {"lab_upstream_url": url, "lab_upstream_timeout_seconds": 0.3}
    async with lab_client(database_url, media_dir, **settings) as (_, client):
        response = await client.get("/lab/fetch", params={"ms": 3000})
    assert response.status_code == 502
    assert response.json()["detail"].startswith(f"Upstream {url} timed out")
