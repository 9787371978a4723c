"""Liveness and readiness probes for load balancers and orchestrators."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Literal

from fastapi import status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from fastblog.dependencies import ResourcesDep
from fastblog.media.store import S3MediaStore
from fastblog.resources import Resources
from fastblog.routing import api_router

if TYPE_CHECKING:  # made in fastblog.main, and imported there, only with REDIS_URL
    from redis.asyncio import Redis

logger = logging.getLogger(__name__)
router = api_router(tags=["health"])

CheckResult = Literal["ok", "unreachable", "timeout"]
Status = Literal["ok", "unavailable", "draining"]
Probe = Callable[[], Awaitable[object]]


class Readiness(BaseModel):
    status: Status = Field(
        description=(
            "`draining`: the process was asked to stop (SIGTERM) and finishes its requests; "
            "the load balancer should send no more (a 503 whatever the checks say)."
        )
    )
    database: CheckResult = Field(
        description="The database's result, also under `checks` (kept for existing probes)."
    )
    checks: dict[str, CheckResult] = Field(
        description=(
            "Each dependency this host is configured with: `database` always, `redis` with "
            "REDIS_URL, `storage` with S3_BUCKET. `unreachable`: it answered with an error or "
            "refused the connection; `timeout`: no answer within READY_TIMEOUT_SECONDS."
        )
    )


UNAVAILABLE_EXAMPLE = {
    "status": "unavailable",
    "database": "ok",
    "checks": {"database": "ok", "redis": "unreachable"},
}


@router.get("/health")
async def health() -> dict[str, str]:
    """The process is up and its event loop answers."""
    return {"status": "ok"}


@router.get(
    "/ready",
    response_model=Readiness,
    responses={
        status.HTTP_503_SERVICE_UNAVAILABLE: {
            "description": "A dependency does not answer; `checks` says which",
            "model": Readiness,
            "content": {"application/json": {"example": UNAVAILABLE_EXAMPLE}},
        }
    },
)
async def ready(resources: ResourcesDep) -> JSONResponse:
    """Every dependency this host is configured with answers in time, checked at once.

    The database on both of its roads, Redis when REDIS_URL is set and the bucket when
    S3_BUCKET is, each within READY_TIMEOUT_SECONDS; a 503 names the one that failed. A 503
    with `draining` too from the moment the process is asked to stop.
    """
    probes = dependency_probes(resources)
    timeout = resources.settings.ready_timeout_seconds
    results = await asyncio.gather(*(check(name, probe, timeout) for name, probe in probes.items()))
    checks = dict(zip(probes, results, strict=True))
    healthy = all(result == "ok" for result in results)
    readiness = Readiness(
        status=overall_status(healthy=healthy, draining=resources.shutdown.draining),
        database=checks["database"],
        checks=checks,
    )
    return JSONResponse(
        readiness.model_dump(),
        status_code=status.HTTP_200_OK
        if readiness.status == "ok"
        else status.HTTP_503_SERVICE_UNAVAILABLE,
    )


def overall_status(*, healthy: bool, draining: bool) -> Status:
    if draining:
        return "draining"
    return "ok" if healthy else "unavailable"


def dependency_probes(resources: Resources) -> dict[str, Probe]:
    probes: dict[str, Probe] = {"database": resources.database.ping}
    if resources.redis is not None:
        probes["redis"] = redis_probe(resources.redis)
    if isinstance(resources.media, S3MediaStore):
        probes["storage"] = resources.media.ping
    return probes


def redis_probe(redis: "Redis") -> Probe:
    async def ping() -> None:
        await redis.ping()

    return ping


async def check(name: str, probe: Probe, seconds: float) -> CheckResult:
    try:
        async with asyncio.timeout(seconds):
            await probe()
    except TimeoutError:
        logger.warning("Not ready: %s did not answer within %g s", name, seconds)
        return "timeout"
    except Exception as exc:  # any failure, driver or network, means "not ready"
        logger.warning("Not ready: %s is unreachable: %r", name, exc)
        return "unreachable"
    return "ok"
