"""Liveness and readiness probes for load balancers and orchestrators."""

import asyncio

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy import text

from fastblog.params import responses

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> dict[str, str]:
    """The process is up and its event loop answers."""
    return {"status": "ok"}


@router.get(
    "/ready",
    responses=responses(unavailable="The database does not answer"),
)
async def ready(request: Request) -> JSONResponse:
    """The database answers a trivial query in time."""
    state = request.app.state
    try:
        async with asyncio.timeout(state.settings.db_timeout_seconds):
            async with state.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except Exception:  # any failure, driver or timeout, means "not ready"
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable"},
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    return JSONResponse({"status": "ok", "database": "ok"})
