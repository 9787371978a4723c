"""A stand-in for the lab's routes (issue 4), to try `make bench-lab` without them.

Not a test and not the lab: the smallest app answering the same paths the same way,
so the harness can be exercised on a branch where the lab is not merged yet:
    LAB_APP=tests.bench.lab_standin:create_app make bench-lab
"""

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor
from typing import Annotated

import httpx
from fastapi import FastAPI, Query, Request

Ms = Annotated[int, Query(ge=0, le=5_000)]
N = Annotated[int, Query(ge=1, le=50_000_000)]


def burn(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def create_app() -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=10) as client:
            with ProcessPoolExecutor(max_workers=os.cpu_count()) as pool:
                app.state.client, app.state.pool = client, pool
                yield

    app = FastAPI(lifespan=lifespan)

    def answer(mode: str, started: float, **extra: object) -> dict[str, object]:
        return {"mode": mode, "elapsed_ms": (time.perf_counter() - started) * 1000, **extra}

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/lab/io/async")
    async def io_async(ms: Ms = 100) -> dict[str, object]:
        started = time.perf_counter()
        await asyncio.sleep(ms / 1000)
        return answer("async", started)

    @app.get("/lab/io/sync")
    def io_sync(ms: Ms = 100) -> dict[str, object]:
        started = time.perf_counter()
        time.sleep(ms / 1000)
        return answer("sync", started)

    @app.get("/lab/io/blocking")
    async def io_blocking(ms: Ms = 100) -> dict[str, object]:
        started = time.perf_counter()
        time.sleep(ms / 1000)  # noqa: ASYNC251 (the pitfall, on purpose)
        return answer("blocking", started)

    @app.get("/lab/io/to-thread")
    async def io_to_thread(ms: Ms = 100) -> dict[str, object]:
        started = time.perf_counter()
        await asyncio.to_thread(time.sleep, ms / 1000)
        return answer("to-thread", started)

    @app.get("/lab/cpu/inline")
    async def cpu_inline(n: N = 1_000_000) -> dict[str, object]:
        started = time.perf_counter()
        burn(n)
        return answer("cpu-inline", started)

    @app.get("/lab/cpu/process")
    async def cpu_process(request: Request, n: N = 1_000_000) -> dict[str, object]:
        started = time.perf_counter()
        await asyncio.get_running_loop().run_in_executor(request.app.state.pool, burn, n)
        return answer("cpu-process", started)

    async def upstream(request: Request, ms: int) -> float:
        started = time.perf_counter()
        # No upstream configured: this same server's async route plays it.
        url = f"{request.base_url}lab/io/async"
        response = await request.app.state.client.get(url, params={"ms": ms})
        response.raise_for_status()
        return (time.perf_counter() - started) * 1000

    @app.get("/lab/fetch")
    async def fetch(request: Request, ms: Ms = 100) -> dict[str, object]:
        started = time.perf_counter()
        await upstream(request, ms)
        return answer("fetch", started)

    @app.get("/lab/concurrent")
    async def concurrent(request: Request, ms: Ms = 100) -> dict[str, object]:
        started = time.perf_counter()
        first, second = await asyncio.gather(upstream(request, ms), upstream(request, ms // 2))
        return answer("concurrent", started, calls_ms=[first, second])

    return app
