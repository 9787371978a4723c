"""GET /metrics answers this machine by default, other networks only when configured."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from fastblog.config import Settings
from tests.apps import create_app
from tests.conftest import make_settings

pytestmark = pytest.mark.anyio

REMOTE = ("203.0.113.5", 40000)  # TEST-NET-3: an address from elsewhere


@pytest.fixture
async def default_app(database_url: str, tmp_path: Path) -> AsyncIterator[FastAPI]:
    app = create_app(make_settings(database_url, tmp_path / "media"))
    async with app.router.lifespan_context(app):
        yield app


async def get_metrics(app: FastAPI, client: tuple[str, int]) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=client)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        return await http.get("/metrics")


@pytest.mark.parametrize("client", [("127.0.0.1", 50000), ("::1", 50000)])
async def test_loopback_clients_read_the_metrics(
    default_app: FastAPI, client: tuple[str, int]
) -> None:
    response = await get_metrics(default_app, client)
    assert response.status_code == 200
    assert "fastblog_event_loop_lag_seconds" in response.text


async def test_a_remote_client_is_refused_by_default(default_app: FastAPI) -> None:
    response = await get_metrics(default_app, REMOTE)
    assert response.status_code == 403
    assert "METRICS_ALLOWED_NETWORKS" in response.json()["detail"]
    assert "fastblog_" not in response.text


async def test_a_configured_network_may_read_them(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(
        database_url, tmp_path / "media", metrics_allowed_networks="10.0.0.0/8, 203.0.113.0/24"
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        assert (await get_metrics(app, REMOTE)).status_code == 200
        assert (await get_metrics(app, ("198.51.100.7", 1))).status_code == 403
        # The list replaces the default: loopback is no longer implied.
        assert (await get_metrics(app, ("127.0.0.1", 1))).status_code == 403


def test_the_setting_reads_comma_separated_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("METRICS_ALLOWED_NETWORKS", "10.0.0.0/8, ::1")
    networks = Settings(_env_file=None).metrics_allowed_networks  # type: ignore[call-arg]
    assert [str(network) for network in networks] == ["10.0.0.0/8", "::1/128"]
