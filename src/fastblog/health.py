"""Liveness and readiness probes for load balancers and orchestrators."""

import asyncio

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

router = APIRouter(tags=["health"])


class Readiness(BaseModel):
    status: str
    database: str


@router.get("/health")
async def health() -> dict[str, str]:
    """The process is up and its event loop answers."""
    return {"status": "ok"}


@router.get(
    "/ready",
    response_model=Readiness,
    responses={
        status.HTTP_503_SERVICE_UNAVAILABLE: {
            "description": "The database does not answer",
            "model": Readiness,
        }
    },
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
