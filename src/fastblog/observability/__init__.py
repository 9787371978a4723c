"""Production observability: the event-loop monitor, request tracking and `GET /metrics`."""

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from fastblog.config import Settings
from fastblog.observability import loop_monitor
from fastblog.observability.metrics import Metrics, router
from fastblog.observability.requests import RequestObserver, RequestTracker


def install_observability(app: FastAPI) -> None:
    """Add the request middleware and `/metrics`; the objects live on `app.state`."""
    app.state.metrics = Metrics()
    app.state.requests_in_flight = RequestTracker()
    app.add_middleware(
        RequestObserver, tracker=app.state.requests_in_flight, metrics=app.state.metrics
    )
    app.include_router(router)


@contextlib.asynccontextmanager
async def observing(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    """Lifespan part: watch the database pool and run the loop-lag monitor."""
    metrics: Metrics = app.state.metrics
    metrics.watch_pool(app.state.engine)
    monitor = loop_monitor.LoopLagMonitor(
        interval=settings.loop_lag_interval_ms / 1000,
        warning=settings.loop_lag_warning_ms / 1000,
        metrics=metrics,
        tracker=app.state.requests_in_flight,
    )
    async with loop_monitor.running(monitor):
        yield
