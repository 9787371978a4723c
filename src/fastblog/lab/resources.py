"""What the lab opens in the lifespan (HTTP client, process pool), and dependencies for it."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Annotated

import httpx
from fastapi import Depends, FastAPI, Request

from fastblog.config import Settings
from fastblog.lab.upstream import create_http_client


@contextlib.asynccontextmanager
async def lab_resources(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    """Lifespan part: the shared HTTP client and the process pool, when the lab is on."""
    if not settings.lab_enabled:
        yield
        return
    # "spawn": forking a process that already runs threads (the loop's executors, database
    # drivers) can copy a held lock into the child and deadlock it. Workers start on first use.
    pool = ProcessPoolExecutor(settings.lab_process_workers, mp_context=get_context("spawn"))
    try:
        async with create_http_client(settings) as client:
            app.state.lab_http_client = client
            app.state.lab_process_pool = pool
            yield
    finally:
        # Joining the workers blocks, so it happens off the loop; queued work is dropped.
        await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)


async def get_http_client(request: Request) -> httpx.AsyncClient:
    client: httpx.AsyncClient = request.app.state.lab_http_client
    return client


async def get_process_pool(request: Request) -> ProcessPoolExecutor:
    pool: ProcessPoolExecutor = request.app.state.lab_process_pool
    return pool


HttpClientDep = Annotated[httpx.AsyncClient, Depends(get_http_client)]
ProcessPoolDep = Annotated[ProcessPoolExecutor, Depends(get_process_pool)]
