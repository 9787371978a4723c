"""ALLOWED_HOSTS: a request for a host this site is not is a 400; the probes answer any."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from fastblog.config import Settings
from fastblog.hosts import host_of
from tests.apps import create_app
from tests.asgi import asgi_transport, started
from tests.conftest import ExplicitSettings, make_settings

pytestmark = pytest.mark.anyio

AppClient = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def app_client(sqlite_url: str, tmp_path: Path) -> AppClient:
    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        settings = make_settings(sqlite_url, tmp_path / "media", **overrides)
        app = create_app(settings)
        transport = asgi_transport(app)
        async with started(app), httpx.AsyncClient(transport=transport) as client:
            yield client

    return start


def test_the_default_hosts_are_this_machine_and_the_public_address() -> None:
    assert ExplicitSettings().hosts == ["localhost", "127.0.0.1", "::1"]
    public = ExplicitSettings(public_base_url="https://blog.example.org/")
    assert public.hosts == ["localhost", "127.0.0.1", "::1", "blog.example.org"]
    listed = Settings.model_validate({"allowed_hosts": "a.org, *.b.org"})
    assert listed.hosts == ["a.org", "*.b.org"]


@pytest.mark.parametrize(
    ("header", "host"),
    [("Blog.Example.org:8443", "blog.example.org"), ("[::1]:8000", "::1"), ("::1", "::1")],
)
def test_a_host_header_is_read_without_its_port(header: str, host: str) -> None:
    assert host_of(header) == host


@pytest.mark.parametrize("url", ["http://evil.example/", "http://blog.example.org.evil/"])
async def test_a_request_for_another_host_is_a_400(app_client: AppClient, url: str) -> None:
    async with app_client(allowed_hosts=None, public_base_url="https://blog.example.org") as c:
        for path in ("", "api/posts", "login", "feed.xml"):
            response = await c.get(url + path)
            assert response.status_code == 400, path
            assert "Invalid host header" in response.text


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:8000/",
        "http://127.0.0.1/",
        "http://[::1]:8000/",
        "https://blog.example.org/",
        "https://BLOG.example.org:443/",
    ],
)
async def test_this_machine_and_the_public_host_are_served(app_client: AppClient, url: str) -> None:
    async with app_client(allowed_hosts=None, public_base_url="https://blog.example.org") as c:
        response = await c.get(url)

    assert response.status_code == 200


async def test_a_subdomain_wildcard_allows_its_subdomains_only(app_client: AppClient) -> None:
    async with app_client(allowed_hosts="*.example.org") as c:
        assert (await c.get("http://www.example.org/")).status_code == 200
        assert (await c.get("http://example.org.evil/")).status_code == 400
        assert (await c.get("http://localhost/")).status_code == 400  # the list replaces them


async def test_the_probes_answer_the_load_balancers_own_host(app_client: AppClient) -> None:
    # What HAProxy in deploy/ sends: `http-check send ... hdr Host fastblog-health-check`.
    headers = {"Host": "fastblog-health-check"}
    async with app_client(allowed_hosts=None) as c:
        assert (await c.get("http://10.0.0.7:8000/health", headers=headers)).status_code == 200
        assert (await c.get("http://10.0.0.7:8000/ready", headers=headers)).status_code == 200
        assert (await c.get("http://10.0.0.7:8000/", headers=headers)).status_code == 400
