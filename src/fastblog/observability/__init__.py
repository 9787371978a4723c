"""Production observability: the event-loop monitor, request tracking and `GET /metrics`."""

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from fastblog.config import Settings
from fastblog.observability import loop_monitor
from fastblog.observability.metrics import Metrics
from fastblog.observability.metrics import router as metrics_router
from fastblog.observability.requests import RequestObserver, RequestTracker

__all__ = ["install_observability", "metrics_router", "observing"]


def install_observability(app: FastAPI) -> None:
    """Add the request middleware; the objects live on `app.state`. (`/metrics` is
    `metrics_router`, included by create_app with the other routers.)"""
    app.state.metrics = Metrics()
    app.state.requests_in_flight = RequestTracker()
    app.add_middleware(
        RequestObserver, tracker=app.state.requests_in_flight, metrics=app.state.metrics
    )


@contextlib.asynccontextmanager
async def observing(app: FastAPI, settings: Settings, engine: AsyncEngine) -> AsyncIterator[None]:
    """Lifespan part: watch the database pool and run the loop-lag monitor."""
    metrics: Metrics = app.state.metrics
    metrics.watch_pool(engine)
    monitor = loop_monitor.LoopLagMonitor(
        interval=settings.loop_lag_interval_ms / 1000,
        warning=settings.loop_lag_warning_ms / 1000,
        metrics=metrics,
        tracker=app.state.requests_in_flight,
    )
    async with loop_monitor.running(monitor):
        yield
