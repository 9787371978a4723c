"""Production observability: the event-loop monitor, request tracking and `GET /metrics`."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from fastblog.config import Settings
from fastblog.observability import loop_monitor
from fastblog.observability.metrics import Metrics, create_metrics_router
from fastblog.observability.requests import RequestObserver, RequestTracker

__all__ = ["Observability", "install_observability"]

POOL_SAMPLE_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class Observability:
    """What create_app installs: the metrics, the requests in flight, and the /metrics route."""

    metrics: Metrics
    tracker: RequestTracker
    router: APIRouter

    @contextlib.asynccontextmanager
    async def running(self, settings: Settings, engine: AsyncEngine) -> AsyncIterator[None]:
        """Lifespan part: watch the database pool and run the loop-lag monitor."""
        self.metrics.watch_pool(engine)
        monitor = loop_monitor.LoopLagMonitor(
            interval=settings.loop_lag_interval_ms / 1000,
            warning=settings.loop_lag_warning_ms / 1000,
            metrics=self.metrics,
            tracker=self.tracker,
        )
        async with loop_monitor.running(monitor), self._sampling_pool():
            yield

    @contextlib.asynccontextmanager
    async def _sampling_pool(self) -> AsyncIterator[None]:
        """Across workers, each writes its pool's count to its file every second (a gauge read
        at scrape time would only describe the worker that answers the scrape)."""
        if self.metrics.multiprocess_dir is None:
            yield
            return
        task = asyncio.create_task(sample_every(self.metrics, POOL_SAMPLE_SECONDS))
        try:
            yield
        finally:
            task.cancel()
            await asyncio.wait([task])
            self.metrics.worker_stopped()


async def sample_every(metrics: Metrics, seconds: float) -> None:
    while True:
        metrics.sample_pool()
        await asyncio.sleep(seconds)


def install_observability(app: FastAPI, settings: Settings) -> Observability:
    """Add the request middleware; the caller includes the returned `/metrics` router."""
    metrics, tracker = Metrics(), RequestTracker()
    app.add_middleware(RequestObserver, tracker=tracker, metrics=metrics)
    router = create_metrics_router(metrics, settings.metrics_allowed_networks)
    return Observability(metrics, tracker, router)
