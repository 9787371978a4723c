"""httpx.AsyncClient against aiohttp.ClientSession, the choice behind the lab's shared client.

    .venv/bin/python -m bench.clients      # LAB_CONCURRENCY (10,50,200), LAB_MS (100), 4 s each

N callers share one client and call bench/upstream.py (its own process) again and again for
a bounded time; the figure that decides is the CPU each call costs this process.
"""

import asyncio
import os
import resource
import time
from collections.abc import Awaitable, Callable

import aiohttp
import httpx
import uvloop

from bench.live import live_server

SECONDS = 4.0
POOL = 400  # as the lab's client


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def drive(call: Callable[[], Awaitable[None]], callers: int) -> tuple[float, float, int]:
    """Calls per second, CPU microseconds per call, failed calls."""
    done = failed = 0
    deadline = time.monotonic() + SECONDS

    async def caller() -> None:
        nonlocal done, failed
        while time.monotonic() < deadline:
            try:
                await call()
                done += 1
            except (httpx.HTTPError, aiohttp.ClientError, TimeoutError):
                failed += 1

    cpu, started = cpu_seconds(), time.monotonic()
    await asyncio.gather(*(caller() for _ in range(callers)))
    elapsed, cpu = time.monotonic() - started, cpu_seconds() - cpu
    return done / elapsed, cpu / max(done, 1) * 1e6, failed


async def measure(kind: str, url: str, callers: int) -> tuple[float, float, int]:
    if kind == "httpx":
        limits = httpx.Limits(max_connections=POOL, max_keepalive_connections=POOL)
        async with httpx.AsyncClient(limits=limits, timeout=30, trust_env=False) as client:

            async def call() -> None:
                (await client.get(url)).raise_for_status()

            return await drive(call, callers)
    connector = aiohttp.TCPConnector(limit=POOL, limit_per_host=POOL)
    async with aiohttp.ClientSession(connector=connector, raise_for_status=True) as session:

        async def call() -> None:
            async with session.get(url) as response:
                await response.read()

        return await drive(call, callers)


def main() -> None:
    levels = [int(c) for c in os.environ.get("LAB_CONCURRENCY", "10,50,200").split(",")]
    wait_ms = int(os.environ.get("LAB_MS", "100"))
    with live_server({**os.environ, "LOG_LEVEL": "WARNING"}, app="bench.upstream:create_app") as up:
        for callers in levels:
            for kind in ("httpx", "aiohttp"):
                rate, cpu_us, failed = uvloop.run(measure(kind, f"{up.url}/?ms={wait_ms}", callers))
                ideal = callers * 1000 / wait_ms
                print(
                    f"{kind:<8} {callers:>4} callers  {rate:7,.0f} calls/s ({rate / ideal:.2f} of "
                    f"ideal)  {cpu_us:7,.0f} µs CPU per call  {failed} failed",
                    flush=True,
                )


if __name__ == "__main__":
    main()
