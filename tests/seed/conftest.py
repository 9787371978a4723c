"""The seed tests' set-up: a fresh, migrated database of each backend, a connection that
reads it as the test goes, and the app serving it."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import pool
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from fastblog.config import Settings
from tests.apps import create_app
from tests.asgi import asgi_transport, started
from tests.conftest import make_settings


@pytest.fixture
def settings(migrated_database_url: str, tmp_path: Path) -> Settings:
    return make_settings(migrated_database_url, tmp_path / "media")


@pytest.fixture
async def connection(settings: Settings) -> AsyncIterator[AsyncConnection]:
    engine = create_async_engine(settings.database_url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            yield connection
    finally:
        await engine.dispose()


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app on the seeded database, started as a server would, and a client for it."""
    app = create_app(settings)
    async with (
        started(app),
        httpx.AsyncClient(transport=asgi_transport(app), base_url="http://testserver") as client,
    ):
        yield client
