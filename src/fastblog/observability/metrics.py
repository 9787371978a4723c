"""The app's Prometheus metrics and the `GET /metrics` route that exposes them."""

import asyncio
import ipaddress
import os
import re
from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from fastblog.routing import api_router

# From "unnoticeable" to "the app froze": lags below 5 ms are scheduling noise.
LOOP_LAG_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
REQUEST_LABELS = ("method", "route", "status")
# What generate_latest() writes; spelled out because older clients name it differently.
TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8"
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# Set by `fastblog serve --workers N` (N > 1) before the workers start: prometheus_client then
# keeps every worker's values in files there (its multiprocess mode), chosen at its import.
MULTIPROCESS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
# The files of gauges that count live workers only: gauge_livesum_<pid>.db and the like.
LIVE_GAUGE_FILE = re.compile(r"gauge_live[a-z]+_(\d+)\.db")


def multiprocess_dir() -> Path | None:
    folder = os.environ.get(MULTIPROCESS_DIR_ENV)
    return Path(folder) if folder else None


class Metrics:
    """One app's collectors, in a registry of its own.

    Not the global registry: an app is created per test session and several apps can live in
    one process; each would register the same names twice. With several worker processes
    (`multiprocess_dir()` set), each worker writes its values to files there and a scrape of
    any worker reads them all: one scrape describes the whole host.
    """

    def __init__(self) -> None:
        self.multiprocess_dir = multiprocess_dir()
        self.registry = CollectorRegistry()
        self._pool: QueuePool | None = None
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
            "The largest event-loop lag seen since the app started (any worker).",
            registry=self.registry,
            multiprocess_mode="max",
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
            "Database connections currently lent out by the pool (in use; live workers).",
            registry=self.registry,
            multiprocess_mode="livesum",
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
        """Report the pool's checked-out count (QueuePool only; others report 0): read at each
        scrape, or, across workers, sampled into the worker's file by `sample_pool`."""
        pool = engine.pool
        if isinstance(pool, QueuePool):
            self._pool = pool
            if self.multiprocess_dir is None:
                self.db_checked_out.set_function(pool.checkedout)

    def sample_pool(self) -> None:
        if self._pool is not None:
            self.db_checked_out.set(self._pool.checkedout())

    def exposition(self) -> bytes:
        """This worker's metrics, or every worker's when they share a multiprocess folder."""
        if self.multiprocess_dir is None:
            return generate_latest(self.registry)
        forget_dead_workers(self.multiprocess_dir)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(self.multiprocess_dir))  # type: ignore[no-untyped-call]
        return generate_latest(registry)

    def worker_stopped(self) -> None:
        """A worker that stops drops its live gauges (its counters still count)."""
        if self.multiprocess_dir is not None:
            mark_process_dead(os.getpid(), str(self.multiprocess_dir))  # type: ignore[no-untyped-call]


def forget_dead_workers(folder: Path) -> None:
    """Drop the live gauges of workers that died without stopping (SIGKILL, a crash): uvicorn
    starts a new worker in their place, and their last values would be counted forever."""
    pids = {
        int(match[1])
        for path in folder.iterdir()
        if (match := LIVE_GAUGE_FILE.fullmatch(path.name))
    }
    for pid in pids:
        if not process_exists(pid):
            mark_process_dead(pid, str(folder))  # type: ignore[no-untyped-call]


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: nothing is sent, the process is only looked up
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, as another user's process
    return True


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


def create_metrics_router(metrics: Metrics, allowed_networks: list[IPNetwork]) -> APIRouter:
    """`GET /metrics` for this worker's `metrics`, to clients in `allowed_networks` only."""

    async def require_allowed_client(request: Request) -> None:
        """Refuse clients outside METRICS_ALLOWED_NETWORKS (by default: loopback only).

        Behind a reverse proxy on this machine, uvicorn's proxy headers make the client the
        proxy's client, so a request from the internet is refused even though the proxy is
        local.
        """
        if not client_allowed(request.scope.get("client"), allowed_networks):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail="Metrics are served to the networks in METRICS_ALLOWED_NETWORKS only.",
            )

    router = api_router(tags=["monitoring"])

    @router.get(
        "/metrics",
        response_class=Response,
        dependencies=[Depends(require_allowed_client)],
        responses={403: {"description": "The client is not in METRICS_ALLOWED_NETWORKS"}},
    )
    async def serve_metrics() -> Response:
        """Prometheus metrics of this host's worker processes, in the text exposition format."""
        if metrics.multiprocess_dir is None:
            return Response(metrics.exposition(), media_type=TEXT_FORMAT)
        # Reading every worker's files is file I/O: in a thread, off the event loop.
        return Response(await asyncio.to_thread(metrics.exposition), media_type=TEXT_FORMAT)

    return router
