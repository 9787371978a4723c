"""The lab's routes: the same waits and work done each way, each answering how long it took.

Every input is bounded, so no request can hold the server for more than a few seconds.
"""

import asyncio
import time
from typing import Annotated, Any

from fastapi import Query, Request

from fastblog.lab.cpu import count_primes
from fastblog.lab.resources import HttpClientDep, ProcessPoolDep
from fastblog.lab.schemas import ConcurrentResult, CpuResult, FetchResult, WaitResult
from fastblog.lab.upstream import call_upstream, upstream_url
from fastblog.routing import api_router

MAX_MS = 5_000
MAX_N = 1_000_000  # about 2 s of one core: long enough to see, short enough to bound

Millis = Annotated[
    int, Query(ge=0, le=MAX_MS, description="How long to wait, in milliseconds (0 to 5000).")
]
PrimeLimit = Annotated[
    int,
    Query(
        ge=2,
        le=MAX_N,
        description="Count the primes below n by trial division (2 to 1,000,000); "
        "the work grows about as n^1.5, n=100,000 is roughly 0.1 s of one core.",
    ),
]
UPSTREAM_FAILED: dict[int | str, dict[str, Any]] = {
    502: {"description": "The upstream failed, timed out or was unreachable"}
}

BLOCKING_DESCRIPTION = """
**The pitfall, kept on purpose.** An `async def` route that calls `time.sleep`: the event loop
is frozen for `ms` milliseconds and every other request, on every route, waits. The loop
monitor logs a warning naming this route and `/metrics` shows the lag. Never do this in real
code: `await asyncio.sleep`, `await asyncio.to_thread(...)` or a plain `def` route instead.
"""

router = api_router(prefix="/lab", tags=["lab"])


def since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def raise_or_keep(outcome: float | BaseException) -> float:
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


@router.get("/io/async")
async def io_async(ms: Millis = 100) -> WaitResult:
    """Wait with `await asyncio.sleep`: the loop serves other requests meanwhile."""
    started = time.perf_counter()
    await asyncio.sleep(ms / 1000)
    return WaitResult(mode="async", ms=ms, elapsed_ms=since(started))


@router.get("/io/sync")
def io_sync(ms: Millis = 100) -> WaitResult:
    """Wait with `time.sleep` in a `def` route: it runs in the AnyIO thread pool."""
    started = time.perf_counter()
    time.sleep(ms / 1000)  # fine here: a `def` route runs in a worker thread, not on the loop
    return WaitResult(mode="sync", ms=ms, elapsed_ms=since(started))


@router.get("/io/blocking", description=BLOCKING_DESCRIPTION)
async def io_blocking(ms: Millis = 100) -> WaitResult:
    """THE PITFALL, on purpose: `time.sleep` inside `async def` freezes the whole server."""
    started = time.perf_counter()
    # Deliberately wrong, to show the cost: a blocking call in `async def` holds the loop.
    time.sleep(ms / 1000)  # noqa: ASYNC251
    return WaitResult(mode="blocking", ms=ms, elapsed_ms=since(started))


@router.get("/io/to-thread")
async def io_to_thread(ms: Millis = 100) -> WaitResult:
    """Hand `time.sleep` to `asyncio.to_thread`: the loop stays free, the executor waits."""
    started = time.perf_counter()
    # How to call a blocking, sync-only library from async code: in the default executor.
    await asyncio.to_thread(time.sleep, ms / 1000)
    return WaitResult(mode="to-thread", ms=ms, elapsed_ms=since(started))


@router.get("/cpu/inline")
async def cpu_inline(n: PrimeLimit = 100_000) -> CpuResult:
    """Count primes on the event loop: CPU work blocks it just like `time.sleep`."""
    started = time.perf_counter()
    primes = count_primes(n)  # on the loop on purpose, to compare with /lab/cpu/process
    return CpuResult(mode="cpu-inline", n=n, primes=primes, elapsed_ms=since(started))


@router.get("/cpu/process")
async def cpu_process(pool: ProcessPoolDep, n: PrimeLimit = 100_000) -> CpuResult:
    """Count primes in the process pool: the loop stays free and the work uses every core."""
    started = time.perf_counter()
    # Processes, not threads: the GIL lets only one thread run Python code at a time.
    primes = await asyncio.get_running_loop().run_in_executor(pool, count_primes, n)
    return CpuResult(mode="cpu-process", n=n, primes=primes, elapsed_ms=since(started))


@router.get("/fetch", responses=UPSTREAM_FAILED)
async def fetch(request: Request, client: HttpClientDep, ms: Millis = 100) -> FetchResult:
    """Call the upstream once through the app's shared `aiohttp.ClientSession`."""
    started = time.perf_counter()
    url = upstream_url(request)
    await call_upstream(client, url, ms=ms)
    return FetchResult(mode="fetch", upstream=url, elapsed_ms=since(started))


@router.get("/concurrent", responses=UPSTREAM_FAILED)
async def concurrent(request: Request, client: HttpClientDep, ms: Millis = 100) -> ConcurrentResult:
    """Two upstream calls at once with `asyncio.gather`: the total is the longer, not the sum."""
    started = time.perf_counter()
    url = upstream_url(request)
    # return_exceptions: a failed call must not leave its sibling running unwatched; both
    # finish (each bounded by the client's timeouts), then the first failure is raised.
    outcomes = await asyncio.gather(
        call_upstream(client, url, ms=ms), call_upstream(client, url, ms=ms), return_exceptions=True
    )
    calls_ms = [raise_or_keep(outcome) for outcome in outcomes]
    return ConcurrentResult(
        mode="concurrent",
        upstream=url,
        calls_ms=[round(call, 3) for call in calls_ms],
        sum_ms=round(sum(calls_ms), 3),
        elapsed_ms=since(started),
    )
