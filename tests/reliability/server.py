"""The reliability tests' servers: tests.reliability.app, served by bench.live as `fastblog serve`
serves the app (the same uvicorn settings: graceful shutdown, proxy headers)."""

import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from bench.live import REPO_ROOT, LiveServer, live_server, live_server_async
from tests.conftest import TEST_SECRET_KEY
from tests.processes import clean_env

APP = "tests.reliability.app:create_app"
Server = LiveServer


def server_env(database_url: str, media_dir: Path, **settings: object) -> dict[str, str]:
    """The environment of a server process: its settings, as an operator would set them, and
    nothing else (tests.processes.clean_env)."""
    values: dict[str, object] = {
        "database_url": database_url,
        "secret_key": TEST_SECRET_KEY,
        "media_dir": media_dir,
        "process_pool_workers": 1,
        "log_level": "WARNING",
        **settings,
    }
    # The test app is imported from the repository; the server runs in the test's temporary
    # folder (tests.reliability.server), where no developer's .env waits.
    return clean_env(pythonpath=REPO_ROOT, **values)


@contextlib.contextmanager
def running_server(env: dict[str, str], log_path: Path, *, workers: int = 1) -> Iterator[Server]:
    """A server for synchronous tests (schemathesis)."""
    with live_server(
        env, app=APP, workers=workers, log_path=log_path, cwd=log_path.parent
    ) as server:
        yield server


@contextlib.asynccontextmanager
async def serving(
    env: dict[str, str], log_path: Path, *, workers: int = 1
) -> AsyncIterator[Server]:
    """A server for async tests: waiting never blocks the test's event loop (which may be
    running a proxy the server talks to)."""
    async with live_server_async(
        env, app=APP, workers=workers, log_path=log_path, cwd=log_path.parent
    ) as server:
        yield server
