"""The shared HTTP client and the one way the lab calls its upstream.

aiohttp rather than httpx: measured as the lab's shared client against an upstream in its
own process (bench/README.md), httpx.AsyncClient fell from 0.8 of the ideal at 10
connections to a few percent at 50 and 200 (encode/httpx#3215: its pool does not scale
with concurrency), while aiohttp's kept up with the app itself.
"""

import time

import aiohttp
from fastapi import HTTPException, Request, status

from fastblog.config import Settings


def create_http_client(settings: Settings) -> aiohttp.ClientSession:
    """One session for the app's lifetime: its connection pool is reused by every request.

    Made in the lifespan, on the running loop, and closed there.
    """
    timeout = settings.lab_upstream_timeout_seconds
    return aiohttp.ClientSession(
        # Bounded end to end (connection, pool wait, the whole response), and to connect.
        timeout=aiohttp.ClientTimeout(total=timeout, connect=min(timeout, 5.0)),
        # 400: room for `make bench-lab`'s 200 concurrent /lab/concurrent requests, two
        # upstream calls each. Past it calls wait for a free connection: the pool is a
        # limit like any other. Idle connections are kept and reused, not reopened.
        # An idle connection is dropped after 4 s, before the upstream's own keep-alive ends
        # (uvicorn's is 5 s): reusing one the server is closing would fail the call.
        connector=aiohttp.TCPConnector(limit=400, limit_per_host=400, keepalive_timeout=4),
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


async def call_upstream(client: aiohttp.ClientSession, url: str, *, ms: int) -> float:
    """GET url?ms=..., return how long it took in ms; any failure is a 502 that says why."""
    started = time.perf_counter()
    try:
        async with client.get(url, params={"ms": ms}) as response:
            await response.read()
    except TimeoutError as exc:  # aiohttp's timeouts are TimeoutErrors
        raise bad_gateway(f"Upstream {url} timed out ({type(exc).__name__})") from exc
    except aiohttp.ClientError as exc:
        raise bad_gateway(f"Upstream {url} unreachable ({type(exc).__name__}: {exc})") from exc
    if response.status >= 400:
        raise bad_gateway(f"Upstream {url} answered HTTP {response.status}")
    return (time.perf_counter() - started) * 1000


def bad_gateway(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_502_BAD_GATEWAY, detail=detail)
