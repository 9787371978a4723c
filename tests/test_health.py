from pathlib import Path

import httpx
import pytest

from bench.live import free_port
from fastblog.db import DatabaseNotWritableError
from fastblog.main import create_app
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
    assert response.json() == {"status": "ok", "database": "ok"}


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
    assert ready.json() == {"status": "unavailable", "database": "unreachable"}
    assert health.status_code == 200, "liveness does not depend on the database"


async def test_a_sqlite_database_in_a_missing_folder_refuses_to_start(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "fastblog.db"
    app = create_app(make_settings(f"sqlite+aiosqlite:///{missing}", tmp_path / "media"))

    with pytest.raises(DatabaseNotWritableError, match="does not exist"):
        async with started(app):
            pass
