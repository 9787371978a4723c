"""The app's routes, built once per process and shared by every app the process creates.

Each package declares its routes on a module-level router made by `api_router`; `add_routes`
puts those routes themselves on an app's router, in order. FastAPI's `include_router` would
instead keep each router whole and build every one of its routes again for each app, on the
app's first requests (0.15-0.3 CPU-s an app: a server's first requests, and every app a test
starts), and route each request through two levels of routers.

What `include_router` would add is only what the app itself sets, and fastblog's app sets none
of it (no prefix, tags, dependencies, responses or response class at the app): a route answers
and is documented the same either way. One thing is per process instead of per app:
`app.dependency_overrides`, FastAPI's way for a test to replace a dependency, is the one dict
the shared routes read (`OVERRIDES`), so an override holds for every app of the process while
it is set.
"""

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import APIRouter, FastAPI


class SharedOverrides:
    """The dependency overrides provider of every shared route (FastAPI reads its
    `dependency_overrides` on each request)."""

    def __init__(self) -> None:
        self.dependency_overrides: dict[Callable[..., Any], Callable[..., Any]] = {}


OVERRIDES = SharedOverrides()


def api_router(**options: Any) -> APIRouter:
    """A package's router (APIRouter's options), whose routes every app shares."""
    return APIRouter(dependency_overrides_provider=OVERRIDES, **options)


def add_routes(app: FastAPI, routers: Iterable[APIRouter]) -> None:
    """The routers' routes on `app`, after those it has, in the routers' order."""
    app.dependency_overrides = OVERRIDES.dependency_overrides
    for router in routers:
        app.router.routes.extend(router.routes)
