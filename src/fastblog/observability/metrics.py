"""The app's Prometheus metrics and the `GET /metrics` route that exposes them."""

from fastapi import APIRouter, Request, Response
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

# From "unnoticeable" to "the app froze": lags below 5 ms are scheduling noise.
LOOP_LAG_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
REQUEST_LABELS = ("method", "route", "status")
# What generate_latest() writes; spelled out because older clients name it differently.
TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    """One app's collectors, in a registry of its own.

    Not the global registry: an app is created per test session and several apps can live in
    one process; each would register the same names twice. Each worker process exposes only
    its own numbers: aggregating several uvicorn workers (prometheus_client's multiprocess
    mode) is out of scope, so scrape each worker or run one per container.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._lag_max = 0.0
        # labels() validates and locks on every call; a request only needs the child once.
        self._request_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self.loop_lag = Histogram(
            "fastblog_event_loop_lag_seconds",
            "How late the event loop woke a short sleep: time it was blocked.",
            buckets=LOOP_LAG_BUCKETS,
            registry=self.registry,
        )
        self.loop_lag_max = Gauge(
            "fastblog_event_loop_lag_seconds_max",
            "The largest event-loop lag seen since the app started.",
            registry=self.registry,
        )
        self.requests = Counter(
            "fastblog_http_requests",
            "HTTP requests answered, by route template, method and status.",
            REQUEST_LABELS,
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "fastblog_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template, method and status.",
            REQUEST_LABELS,
            registry=self.registry,
        )
        self.db_checked_out = Gauge(
            "fastblog_db_pool_checked_out_connections",
            "Database connections currently lent out by the pool (in use).",
            registry=self.registry,
        )

    def observe_loop_lag(self, seconds: float) -> None:
        self.loop_lag.observe(seconds)
        if seconds > self._lag_max:
            self._lag_max = seconds
            self.loop_lag_max.set(seconds)

    def observe_request(self, *, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._request_children.get(key)
        if children is None:
            labels = {"method": method, "route": route, "status": str(status)}
            children = (self.requests.labels(**labels), self.request_seconds.labels(**labels))
            self._request_children[key] = children
        count, duration = children
        count.inc()
        duration.observe(seconds)

    def watch_pool(self, engine: AsyncEngine) -> None:
        """Read the pool's checked-out count at each scrape (QueuePool only; others report 0)."""
        pool = engine.pool
        if isinstance(pool, QueuePool):
            self.db_checked_out.set_function(pool.checkedout)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


router = APIRouter(tags=["monitoring"])


@router.get("/metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """Prometheus metrics of this worker process, in the text exposition format."""
    body = request.app.state.metrics.exposition()
    return Response(body, media_type=TEXT_FORMAT)
