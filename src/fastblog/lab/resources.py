"""What the lab opens in the lifespan (its HTTP client), and dependencies for it and the app's
process pool."""

import contextlib
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor
from typing import Annotated

import aiohttp
from fastapi import Depends, FastAPI, Request

from fastblog.config import Settings
from fastblog.lab.upstream import create_http_client


@contextlib.asynccontextmanager
async def lab_resources(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    """Lifespan part: the shared HTTP client, when the lab is on."""
    if not settings.lab_enabled:
        yield
        return
    async with create_http_client(settings) as client:
        app.state.lab_http_client = client
        yield


async def get_http_client(request: Request) -> aiohttp.ClientSession:
    client: aiohttp.ClientSession = request.app.state.lab_http_client
    return client


async def get_process_pool(request: Request) -> ProcessPoolExecutor:
    """The app's process pool (made in the lifespan in main.py), shared with picture resizing."""
    pool: ProcessPoolExecutor = request.state.resources.process_pool
    return pool


HttpClientDep = Annotated[aiohttp.ClientSession, Depends(get_http_client)]
ProcessPoolDep = Annotated[ProcessPoolExecutor, Depends(get_process_pool)]
