"""The database-pool scenario of `make bench-lab`: an async route whose query waits.

The lab's own routes have no such endpoint, so this small app stands in: it builds its
engine with fastblog's own `create_engine(Settings())`, hence the app's pool settings
(DB_POOL_SIZE + DB_MAX_OVERFLOW connections per worker) and timeouts. Each request
holds one pooled connection while PostgreSQL's `pg_sleep` waits, which is what a slow
query does to a real route.
"""

import contextlib
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import FastAPI, Query
from sqlalchemy import text

from fastblog.config import Settings
from fastblog.db.engine import create_engine

MAX_MS = 5_000


def create_app() -> FastAPI:
    settings = Settings()
    capacity = settings.db_pool_size + settings.db_max_overflow

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.engine = create_engine(settings)
        try:
            yield
        finally:
            await app.state.engine.dispose()

    app = FastAPI(lifespan=lifespan, openapi_url=None)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/lab/db/sleep")
    async def db_sleep(ms: Annotated[int, Query(ge=0, le=MAX_MS)] = 100) -> dict[str, object]:
        started = time.perf_counter()
        async with app.state.engine.connect() as connection:
            await connection.execute(text("SELECT pg_sleep(:seconds)"), {"seconds": ms / 1000})
        return {
            "mode": "db-pool",
            "elapsed_ms": (time.perf_counter() - started) * 1000,
            "pool_capacity": capacity,
        }

    return app
