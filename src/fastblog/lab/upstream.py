"""The shared HTTP client and the one way the lab calls its upstream."""

import time

import httpx
from fastapi import HTTPException, Request, status

from fastblog.config import Settings


def create_http_client(settings: Settings) -> httpx.AsyncClient:
    """One client for the app's lifetime: its connection pool is reused by every request."""
    timeout = settings.lab_upstream_timeout_seconds
    return httpx.AsyncClient(
        # Every phase is bounded: connect, wait for a pooled connection, read, write.
        timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        # Keep as many idle connections as may be open, so a busy lab reuses them instead of
        # reconnecting (and piling up sockets in TIME_WAIT).
        # 400: room for `make bench-lab`'s 200 concurrent /lab/concurrent requests, two
        # upstream calls each. Past the pool's size calls wait for a free connection: the
        # pool is a limit like any other (at httpx's default of 100, fetch fell at 200).
        limits=httpx.Limits(max_connections=400, max_keepalive_connections=400),
        # The upstream is named explicitly; a proxy from the environment would send even the
        # loopback self-call elsewhere.
        trust_env=False,
    )


def upstream_url(request: Request) -> str:
    """LAB_UPSTREAM_URL, or else this server's own /lab/io/async, so it works offline.

    The server's own socket address (the ASGI `server`), not the Host header: behind a proxy
    the Host names the proxy, while the socket always reaches this process.
    """
    configured = request.app.state.settings.lab_upstream_url
    if configured is not None:
        return str(configured)
    path = request.app.url_path_for("io_async")
    server = request.scope.get("server")
    if server is None or server[1] is None:  # a Unix socket, or no address at all
        return str(request.base_url.replace(path=path))
    host, port = server
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{port}{path}"


async def call_upstream(client: httpx.AsyncClient, url: str, *, ms: int) -> float:
    """GET url?ms=..., return how long it took in ms; any failure is a 502 that says why."""
    started = time.perf_counter()
    try:
        response = await client.get(url, params={"ms": ms})
        response.raise_for_status()
    except httpx.TimeoutException as exc:
        raise bad_gateway(f"Upstream {url} timed out ({type(exc).__name__})") from exc
    except httpx.HTTPStatusError as exc:
        code = exc.response.status_code
        raise bad_gateway(f"Upstream {url} answered HTTP {code}") from exc
    except httpx.HTTPError as exc:
        raise bad_gateway(f"Upstream {url} unreachable ({type(exc).__name__}: {exc})") from exc
    return (time.perf_counter() - started) * 1000


def bad_gateway(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_502_BAD_GATEWAY, detail=detail)
