"""Lab fixtures: real upstream servers on free loopback ports, and apps with lab settings."""

import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from bench.live import free_port
from tests.apps import create_app
from tests.asgi import asgi_transport, started
from tests.conftest import make_settings

# The lab is off by default: every app here switches it on explicitly. The monitor wakes
# every 10 ms in tests, so a 300 ms block shows as a lag of ~290 ms or more.
LAB_OVERRIDES = {"lab_enabled": True, "loop_lag_interval_ms": 10, "loop_lag_warning_ms": 100}


class ServerThread:
    """A real uvicorn server on a free loopback port, with its own event loop in a thread.

    Its own loop matters: a test that blocks the test loop must not freeze the upstream too.
    """

    def __init__(self, app: ASGIApp) -> None:
        config = uvicorn.Config(app, log_config=None, access_log=False, ws="none")
        self.server = uvicorn.Server(config)
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))  # the port is known before the server starts
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self.url

    def __exit__(self, *exc_info: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.socket.close()


async def answer_500(scope: Scope, receive: Receive, send: Send) -> None:
    """The smallest failing upstream: every HTTP request gets a 500."""
    if scope["type"] == "lifespan":
        return
    await send({"type": "http.response.start", "status": 500, "headers": []})
    await send({"type": "http.response.body", "body": b"upstream broke"})


@pytest.fixture(scope="session")
def upstream_server(sqlite_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real fastblog (lab on, no LAB_UPSTREAM_URL) served over HTTP; yields its base URL."""
    settings = make_settings(
        sqlite_url, tmp_path_factory.mktemp("upstream-media"), lab_enabled=True
    )
    with ServerThread(create_app(settings)) as url:
        yield url


@pytest.fixture(scope="session")
def failing_server() -> Iterator[str]:
    """A real server that answers 500 to everything; yields its base URL."""
    with ServerThread(answer_500) as url:
        yield url


@pytest.fixture
def closed_port_url() -> str:
    """A loopback URL nobody listens on: connecting is refused at once."""
    return f"http://127.0.0.1:{free_port()}/lab/io/async"


@contextlib.asynccontextmanager
async def lab_client(
    database_url: str, media_dir: Path, **overrides: object
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """A fresh app with lab settings, its lifespan running, and an ASGI client to it."""
    app = create_app(make_settings(database_url, media_dir, **{**LAB_OVERRIDES, **overrides}))
    transport = asgi_transport(app)
    async with (
        started(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
    ):
        yield app, client


@pytest.fixture
def media_dir(tmp_path: Path) -> Path:
    return tmp_path / "media"


@pytest.fixture(scope="session")
async def lab(
    database_url: str, upstream_server: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    """A client to the session's lab app, whose upstream is the real server above."""
    async with lab_client(
        database_url,
        tmp_path_factory.mktemp("lab-media"),
        lab_upstream_url=f"{upstream_server}/lab/io/async",
    ) as (_app, client):
        yield client
