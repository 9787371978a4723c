"""The upstream of `make bench-lab`'s fetch and concurrent modes, in a process of its own.

Any path, `?ms=N`: wait N milliseconds (at most 5 s), then answer a little JSON. A bare
ASGI callable, no framework: it must stay far from being the bottleneck, so what the chart
shows is the lab's shared client, not the server it calls.
"""

import asyncio
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

MAX_MS = 5_000
HEADERS = [(b"content-type", b"application/json")]


async def upstream(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":  # lifespan: nothing to open
        return
    values = parse_qs(scope["query_string"].decode()).get("ms", ["0"])
    ms = min(int(values[0]), MAX_MS) if values[0].isdigit() else 0
    await asyncio.sleep(ms / 1000)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": b'{"waited_ms": %d}' % ms})


def create_app() -> ASGIApp:
    return upstream
