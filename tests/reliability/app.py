"""The app as production builds it, plus two test-only routes (never part of src).

Served by `tests/reliability/server.py` through `fastblog.cli.serve`, so the server runs with
the same uvicorn configuration (graceful shutdown, proxy headers) as `fastblog serve`.
"""

import asyncio

from fastapi import FastAPI, Query, Request
from sqlalchemy import text

from fastblog.main import create_app as create_fastblog_app

SLOW_STARTED = "slow-request-started"  # a file in MEDIA_DIR


def create_app() -> FastAPI:
    app = create_fastblog_app()

    @app.get("/test/slow", include_in_schema=False)
    async def slow(request: Request, seconds: float = Query(1.0, ge=0, le=30)) -> dict[str, float]:
        """A request that stays in flight for a while; it says when it has started."""
        (request.state.resources.settings.media_dir / SLOW_STARTED).touch()
        await asyncio.sleep(seconds)
        return {"slept": seconds}

    @app.get("/api/test/db-sleep", include_in_schema=False)
    async def db_sleep(
        request: Request, seconds: float = Query(1.0, ge=0, le=30)
    ) -> dict[str, str]:
        """A query that keeps a PostgreSQL connection busy, to kill it mid-flight."""
        async with request.state.resources.database.session() as session:
            await session.execute(text("SELECT pg_sleep(:seconds)"), {"seconds": seconds})
        return {"status": "done"}

    return app
