"""Running the app in-process as a server would: its lifespan, and its lifespan state in every
request (Starlette's servers copy it into each request's scope; httpx's ASGITransport does not)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from fastblog.posts.tag_list_cache import TagListCache
from fastblog.resources import Resources
from fastblog.web.kept_pages import KeptPages

_STATE = "_test_lifespan_state"


@asynccontextmanager
async def started(app: FastAPI) -> AsyncIterator[Resources]:
    """The app's lifespan, entered and left as uvicorn would; yields its resources."""
    async with app.router.lifespan_context(app) as state:
        setattr(app.state, _STATE, state)
        try:
            yield resources_of(app)
        finally:
            delattr(app.state, _STATE)


def resources_of(app: FastAPI) -> Resources:
    resources: Resources = getattr(app.state, _STATE)["resources"]
    return resources


def tag_list_cache_of(app: FastAPI) -> TagListCache:
    cache: TagListCache = getattr(app.state, _STATE)["tag_list_cache"]
    return cache


def kept_pages_of(app: FastAPI) -> KeptPages:
    pages: KeptPages = getattr(app.state, _STATE)["kept_pages"]
    return pages


class WithLifespanState:
    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state: dict[str, Any] = getattr(self.app.state, _STATE, {})
        await self.app({**scope, "state": dict(state)}, receive, send)


def asgi_transport(app: FastAPI, **options: Any) -> httpx.ASGITransport:
    return httpx.ASGITransport(app=WithLifespanState(app), **options)
