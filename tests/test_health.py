import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bench.live import free_port
from fastblog.config import Settings
from fastblog.db import DatabaseNotWritableError
from tests.apps import create_app
from tests.asgi import asgi_transport, started
from tests.conftest import make_settings

pytestmark = pytest.mark.anyio


async def test_health_says_the_process_is_up(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_says_the_database_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "checks": {"database": "ok"}}


def unreachable_database(kind: str, tmp_path: Path) -> str:
    if kind == "sqlite":
        # Writable (so the app starts) but not a database: every query fails.
        garbage = tmp_path / "fastblog.db"
        garbage.write_bytes(b"this is not a SQLite database, just some bytes " * 100)
        return f"sqlite+aiosqlite:///{garbage}"
    # Nothing listens on this port: connections are refused.
    return f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/fastblog"


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_ready_is_503_when_the_database_does_not_answer(kind: str, tmp_path: Path) -> None:
    settings = make_settings(
        unreachable_database(kind, tmp_path), tmp_path / "media", db_timeout_seconds=5
    )
    app = create_app(settings)

    async with (
        started(app),
        httpx.AsyncClient(transport=asgi_transport(app), base_url="http://testserver") as client,
    ):
        ready = await client.get("/ready")
        health = await client.get("/health")

    assert ready.status_code == 503
    assert ready.json() == {
        "status": "unavailable",
        "database": "unreachable",
        "checks": {"database": "unreachable"},
    }
    assert health.status_code == 200, "liveness does not depend on the database"


async def test_a_sqlite_database_in_a_missing_folder_refuses_to_start(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "fastblog.db"
    app = create_app(make_settings(f"sqlite+aiosqlite:///{missing}", tmp_path / "media"))

    with pytest.raises(DatabaseNotWritableError, match="does not exist"):
        async with started(app):
            pass


@contextlib.asynccontextmanager
async def app_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with (
        started(app),
        httpx.AsyncClient(transport=asgi_transport(app), base_url="http://testserver") as client,
    ):
        yield client


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[int]:
    """A loopback port that accepts connections and never answers: a dependency that hangs."""
    connections: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for writer in connections:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_ready_checks_redis_when_it_is_configured(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path / "media", redis_url=redis_url)

    async with app_client(settings) as client:
        response = await client.get("/ready")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "checks": {"database": "ok", "redis": "ok"},
    }


async def test_ready_is_503_and_names_redis_when_redis_is_away(
    database_url: str, tmp_path: Path
) -> None:
    nobody_listens = f"redis://127.0.0.1:{free_port()}/0"
    settings = make_settings(database_url, tmp_path / "media", redis_url=nobody_listens)

    async with app_client(settings) as client:
        ready = await client.get("/ready")
        health = await client.get("/health")

    assert ready.status_code == 503
    assert ready.json() == {
        "status": "unavailable",
        "database": "ok",
        "checks": {"database": "ok", "redis": "unreachable"},
    }
    assert health.status_code == 200


async def test_hanging_dependencies_are_given_the_ready_timeout_all_at_once(
    tmp_path: Path,
) -> None:
    """A database and a Redis that accept connections and never answer: each gets
    READY_TIMEOUT_SECONDS, concurrently, so the probe answers in about one timeout, not two."""
    # One after the other they would take two timeouts or more, so that is the bound: what a
    # loaded machine adds (scheduling, connecting) must stay under one whole timeout.
    timeout = 1.5
    async with silent_server() as db_port, silent_server() as redis_port:
        settings = make_settings(
            f"postgresql+asyncpg://postgres@127.0.0.1:{db_port}/fastblog",
            tmp_path / "media",
            redis_url=f"redis://127.0.0.1:{redis_port}/0",
            ready_timeout_seconds=timeout,
            # The start-up's first read of the site settings waits this long for the
            # silent database before serving with the environment's values.
            db_timeout_seconds=2 * timeout,
        )
        async with app_client(settings) as client:
            started_at = time.monotonic()
            ready = await client.get("/ready")
            elapsed = time.monotonic() - started_at

    assert ready.status_code == 503
    assert ready.json() == {
        "status": "unavailable",
        "database": "timeout",
        "checks": {"database": "timeout", "redis": "timeout"},
    }
    assert timeout <= elapsed < 2 * timeout, elapsed


async def test_the_openapi_document_describes_the_503_body(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()

    unavailable = document["paths"]["/ready"]["get"]["responses"]["503"]
    body = unavailable["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/Readiness"}
    assert body["example"]["checks"]["redis"] == "unreachable"
    readiness = document["components"]["schemas"]["Readiness"]
    assert set(readiness["required"]) == {"status", "database", "checks"}
