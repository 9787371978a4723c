"""Liveness and readiness probes for load balancers and orchestrators."""

import asyncio

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from fastblog.dependencies import ResourcesDep

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
async def ready(resources: ResourcesDep) -> JSONResponse:
    """The database answers a trivial query in time, on both of its roads."""
    try:
        async with asyncio.timeout(resources.settings.db_timeout_seconds):
            await resources.database.ping()
    except Exception:  # any failure, driver or timeout, means "not ready"
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable"},
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    return JSONResponse({"status": "ok", "database": "ok"})
