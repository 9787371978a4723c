"""Behind a proxy without REDIS_URL, the app says once that its counts are per process."""

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.live import live_server
from tests.apps import create_app
from tests.asgi import asgi_transport, started
from tests.conftest import make_settings
from tests.processes import fastblog_env

pytestmark = pytest.mark.anyio

PER_PROCESS = "login throttling and rate limits are counted in each process on its own"
AppClient = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def app_client(sqlite_url: str, tmp_path: Path) -> AppClient:
    """A started app with the settings given, and a client for it."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(make_settings(sqlite_url, tmp_path / "media", **overrides))
        async with (
            started(app),
            httpx.AsyncClient(transport=asgi_transport(app), base_url="http://blog") as client,
        ):
            yield client

    return start


def warnings_in(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if PER_PROCESS in r.getMessage()]


@pytest.mark.parametrize(
    "header",
    [{"X-Forwarded-For": "203.0.113.7"}, {"Forwarded": "for=203.0.113.7;proto=https"}],
    ids=["x-forwarded-for", "forwarded"],
)
async def test_the_first_proxied_request_warns_once(
    app_client: AppClient, caplog: pytest.LogCaptureFixture, header: dict[str, str]
) -> None:
    caplog.set_level(logging.WARNING, logger="fastblog.proxied")
    async with app_client() as client:
        assert (await client.get("/health")).status_code == 200
        assert warnings_in(caplog) == []  # a request straight from a client says nothing

        for _ in range(3):
            assert (await client.get("/health", headers=header)).status_code == 200

    (warning,) = warnings_in(caplog)
    assert "came through a proxy" in warning
    assert "REDIS_URL is not set" in warning


async def test_forwarded_allow_ips_warns_at_start_up(
    app_client: AppClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="fastblog.proxied")
    async with app_client(forwarded_allow_ips="10.0.0.2") as client:
        (warning,) = warnings_in(caplog)  # before any request
        assert "FORWARDED_ALLOW_IPS is set (10.0.0.2)" in warning

        await client.get("/health", headers={"X-Forwarded-For": "203.0.113.7"})

    assert len(warnings_in(caplog)) == 1  # once per process


async def test_no_warning_when_redis_shares_the_counts(
    app_client: AppClient, caplog: pytest.LogCaptureFixture, redis_url: str
) -> None:
    caplog.set_level(logging.WARNING, logger="fastblog.proxied")
    async with app_client(redis_url=redis_url, forwarded_allow_ips="*") as client:
        await client.get("/health", headers={"X-Forwarded-For": "203.0.113.7"})

    assert warnings_in(caplog) == []


def test_a_served_process_warns_at_the_first_proxied_request(
    sqlite_url: str, tmp_path: Path
) -> None:
    """`fastblog serve` behind a proxy on this machine (uvicorn trusts 127.0.0.1 by default)."""
    env = fastblog_env(sqlite_url, log_level="WARNING")
    with live_server(env, log_path=tmp_path / "server.log", cwd=tmp_path) as server:
        forwarded = {"X-Forwarded-For": "203.0.113.7"}
        assert PER_PROCESS not in server.log()
        for _ in range(2):
            response = httpx.get(f"{server.url}/health", headers=forwarded, timeout=10)
            assert response.status_code == 200
        log = server.log()

    assert log.count(PER_PROCESS) == 1
