"""The application factory: everything with a lifetime is opened and closed in the lifespan."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from fastblog import health
from fastblog.config import Settings, get_settings
from fastblog.database import create_engine, create_sessionmaker
from fastblog.errors import install_error_handlers
from fastblog.lab import api as lab_api
from fastblog.lab.resources import lab_resources
from fastblog.observability import install_observability, observing
from fastblog.posts import api as posts_api
from fastblog.posts import views as posts_views
from fastblog.threadpools import sized_thread_pools
from fastblog.users import api as users_api
from fastblog.users import views as users_views

STATIC_DIR = Path(__file__).parent / "static"

DESCRIPTION = """
The JSON API of fastblog: users and their posts.

Lists are paginated with `skip` and `limit` (at most 100) and always say whether there is more.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings)
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        # SQLite has one writer at a time: this process's writers queue here, on the
        # event loop. PostgreSQL locks rows itself, so no queue is needed there.
        app.state.write_lock = asyncio.Lock() if settings.is_sqlite else contextlib.nullcontext()
        settings.media_dir.mkdir(parents=True, exist_ok=True)
        try:
            async with (
                sized_thread_pools(settings),
                observing(app, settings),
                lab_resources(app, settings),
            ):
                yield
        finally:
            await engine.dispose()

    app = FastAPI(
        title="fastblog",
        summary="An async-first blog: users, posts, HTML pages and a JSON API.",
        description=DESCRIPTION,
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_error_handlers(app)
    install_observability(app)
    if settings.lab_enabled:
        app.include_router(lab_api.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.mount("/media", StaticFiles(directory=settings.media_dir, check_dir=False), name="media")
    for router in (
        users_api.router,
        posts_api.router,
        health.router,
        posts_views.router,
        users_views.router,
    ):
        app.include_router(router)
    return app


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
