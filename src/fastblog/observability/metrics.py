"""The app's Prometheus metrics and the `GET /metrics` route that exposes them."""

import ipaddress

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

# From "unnoticeable" to "the app froze": lags below 5 ms are scheduling noise.
LOOP_LAG_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
REQUEST_LABELS = ("method", "route", "status")
# What generate_latest() writes; spelled out because older clients name it differently.
TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8"
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


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


def client_allowed(client: tuple[str, int] | None, networks: list[IPNetwork]) -> bool:
    """Is the client's address in one of `networks`? No address, or not an IP: no."""
    if client is None:
        return False
    try:
        address = ipaddress.ip_address(client[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return any(address in network for network in networks)


async def require_allowed_client(request: Request) -> None:
    """Refuse clients outside METRICS_ALLOWED_NETWORKS (by default: loopback only).

    Behind a reverse proxy on this machine, uvicorn's proxy headers make the client the
    proxy's client, so a request from the internet is refused even though the proxy is local.
    """
    networks = request.app.state.settings.metrics_allowed_networks
    if not client_allowed(request.scope.get("client"), networks):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail="Metrics are served to the networks in METRICS_ALLOWED_NETWORKS only.",
        )


router = APIRouter(tags=["monitoring"])


@router.get(
    "/metrics",
    response_class=Response,
    dependencies=[Depends(require_allowed_client)],
    responses={403: {"description": "The client is not in METRICS_ALLOWED_NETWORKS"}},
)
async def metrics(request: Request) -> Response:
    """Prometheus metrics of this worker process, in the text exposition format."""
    body = request.app.state.metrics.exposition()
    return Response(body, media_type=TEXT_FORMAT)
