"""The reliability tests' servers: tests.reliability.app, served by bench.live as `fastblog serve`
serves the app (the same uvicorn settings: graceful shutdown, proxy headers)."""

import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from bench.live import LiveServer, live_server, live_server_async
from tests.conftest import TEST_SECRET_KEY

APP = "tests.reliability.app:create_app"
Server = LiveServer


def server_env(database_url: str, media_dir: Path, **settings: object) -> dict[str, str]:
    """The environment of a server process: its settings, as an operator would set them."""
    values: dict[str, object] = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": TEST_SECRET_KEY,
        "MEDIA_DIR": media_dir,
        "PROCESS_POOL_WORKERS": 1,
        "LOG_LEVEL": "WARNING",
        **{name.upper(): value for name, value in settings.items()},
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
    env.update({name: str(value) for name, value in values.items()})
    return env


@contextlib.contextmanager
def running_server(env: dict[str, str], log_path: Path, *, workers: int = 1) -> Iterator[Server]:
    """A server for synchronous tests (schemathesis)."""
    with live_server(env, app=APP, workers=workers, log_path=log_path) as server:
        yield server


@contextlib.asynccontextmanager
async def serving(
    env: dict[str, str], log_path: Path, *, workers: int = 1
) -> AsyncIterator[Server]:
    """A server for async tests: waiting never blocks the test's event loop (which may be
    running a proxy the server talks to)."""
    async with live_server_async(env, app=APP, workers=workers, log_path=log_path) as server:
        yield server
