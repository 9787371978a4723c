"""Our own bounded load generator, for machines without wrk.

Raw asyncio streams over keep-alive HTTP/1.1 connections, on uvloop when installed:
measured on the ceiling app it drives several times the requests/s httpx.AsyncClient
can (see bench/README.md), which matters because the client shares the machine's CPU
with the server. It reads just enough of each response to find where it ends.
"""

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bench.load import LoadResult, LoadSettings, Scenario, percentile

DISTINCT_REQUESTS = 1024
CONNECT_RETRY_SECONDS = 0.05


def build_requests(host: str, scenario: Scenario, *, count: int = DISTINCT_REQUESTS) -> list[bytes]:
    """Pre-built request bytes, ids drawn like wrk_report.lua does, so no per-request work."""
    rng = random.Random(7919)
    ids = scenario.ids
    requests = []
    for _ in range(count if ids else 1):
        id_text = str(rng.choice(ids)) if ids else ""
        path = scenario.path.replace("{id}", id_text)
        body = scenario.body.replace("{id}", id_text).encode() if scenario.body else b""
        lines = [f"{scenario.method} {path} HTTP/1.1", f"Host: {host}"]
        lines += [f"{name}: {value}" for name, value in scenario.headers.items()]
        if body or scenario.method in {"POST", "PUT", "PATCH"}:
            lines.append(f"Content-Length: {len(body)}")
        requests.append(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    return requests


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response; return its status and whether the connection stays open."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    keep_alive = b"\r\nconnection: close" not in lower
    if b"\r\ntransfer-encoding: chunked" in lower:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)  # the chunk and its CRLF
            if size == 0:  # the last chunk; we never ask for trailers
                return status, keep_alive
    start = lower.find(b"\r\ncontent-length:")
    if start >= 0:
        end = lower.index(b"\r\n", start + 2)
        await reader.readexactly(int(lower[start + 17 : end]))
        return status, keep_alive
    if status in {204, 304} or status < 200:
        return status, keep_alive
    await reader.read()  # a body delimited by the end of the connection
    return status, False


@dataclass
class _Tally:
    latencies: list[float] = field(default_factory=list)
    ok: int = 0
    non_2xx: int = 0
    errors: int = 0
    timeouts: int = 0
    # Set at the deadline: responses that arrive while the workers are being
    # cancelled fall outside the measured window, as they do with wrk.
    closed: bool = False


async def _connection(
    host: str, port: int, requests: list[bytes], first: int, tally: _Tally, seconds: float
) -> None:
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    index = first
    try:
        while True:
            if writer is None or reader is None:
                try:
                    async with asyncio.timeout(seconds):
                        reader, writer = await asyncio.open_connection(host, port)
                except TimeoutError:
                    tally.timeouts += 1
                    continue
                except OSError:
                    tally.errors += 1
                    await asyncio.sleep(CONNECT_RETRY_SECONDS)  # no busy loop on a dead server
                    continue
            request = requests[index % len(requests)]
            index += 1
            started = time.perf_counter()
            try:
                writer.write(request)
                async with asyncio.timeout(seconds):
                    status, keep_alive = await read_response(reader)
            except TimeoutError:
                failure = "timeouts"
            except (OSError, EOFError, asyncio.LimitOverrunError, ValueError):
                failure = "errors"  # IncompleteReadError is an EOFError
            else:
                failure = ""
            if tally.closed:
                return
            if failure:
                setattr(tally, failure, getattr(tally, failure) + 1)
                writer.close()
                reader = writer = None
                continue
            tally.latencies.append(time.perf_counter() - started)
            if 200 <= status < 300:
                tally.ok += 1
            else:
                tally.non_2xx += 1
            if not keep_alive:
                writer.close()
                reader = writer = None
    finally:
        if writer is not None:
            writer.close()


async def _drive(base_url: str, scenario: Scenario, settings: LoadSettings) -> LoadResult:
    url = urlsplit(base_url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    requests = build_requests(f"{host}:{port}", scenario)
    tally = _Tally()
    workers = [
        asyncio.create_task(
            _connection(host, port, requests, n * 7, tally, settings.timeout_seconds)
        )
        for n in range(settings.connections)
    ]
    started = time.perf_counter()
    await asyncio.sleep(settings.seconds)
    tally.closed = True
    duration = time.perf_counter() - started
    for worker in workers:
        worker.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    latencies = sorted(tally.latencies)
    return LoadResult(
        tool="asyncio",
        connections=settings.connections,
        duration_s=duration,
        requests=tally.ok + tally.non_2xx,
        ok=tally.ok,
        non_2xx=tally.non_2xx,
        errors=tally.errors,
        timeouts=tally.timeouts,
        p50_ms=percentile(latencies, 50) * 1000,
        p99_ms=percentile(latencies, 99) * 1000,
    )


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run_async_load(base_url: str, scenario: Scenario, settings: LoadSettings) -> LoadResult:
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        return runner.run(_drive(base_url, scenario, settings))
