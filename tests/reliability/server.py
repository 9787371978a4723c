"""Real server processes for the reliability tests: uvicorn on a free loopback port.

Every process started here is stopped by the context manager that started it, even when
the test fails: SIGTERM first (a graceful shutdown), SIGKILL to its process group if it
does not exit in time.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx

from tests.conftest import TEST_SECRET_KEY
from tests.processes import clean_env

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0  # 2 shared cores: starting Python and importing the app can be slow
STOP_TIMEOUT = 45.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


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
    return clean_env(**values)


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def terminate(self) -> None:
        """SIGTERM: what a process manager sends to stop the server."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float = STOP_TIMEOUT) -> int:
        return self.process.wait(timeout=timeout)


def _start(env: dict[str, str], log_path: Path, workers: int) -> Server:
    port = free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.serve", str(port), str(workers)],
            # In the test's temporary folder, not the repository (where a .env may be); the
            # test app is imported from the repository.
            cwd=log_path.parent,
            env={**env, "PYTHONPATH": str(ROOT)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, workers included
        )
    return Server(process, port, log_path)


def _check_started(server: Server, deadline: float) -> None:
    if server.process.poll() is not None:
        raise RuntimeError(f"server exited at start-up:\n{server.log()}")
    if time.monotonic() > deadline:
        raise RuntimeError(f"server not up after {START_TIMEOUT} s:\n{server.log()}")


def _stop(server: Server) -> None:
    server.terminate()
    try:
        server.wait()
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.wait()


@contextlib.contextmanager
def running_server(env: dict[str, str], log_path: Path, *, workers: int = 1) -> Iterator[Server]:
    """A server for synchronous tests (schemathesis)."""
    server = _start(env, log_path, workers)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            _check_started(server, deadline)
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{server.url}/health", timeout=2).status_code == 200:
                    break
            time.sleep(0.2)
        yield server
    finally:
        _stop(server)


@contextlib.asynccontextmanager
async def serving(
    env: dict[str, str], log_path: Path, *, workers: int = 1
) -> AsyncIterator[Server]:
    """A server for async tests: waiting never blocks the test's event loop (which may be
    running a proxy the server talks to)."""
    server = _start(env, log_path, workers)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        async with httpx.AsyncClient(base_url=server.url, timeout=2) as client:
            while True:
                _check_started(server, deadline)
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get("/health")).status_code == 200:
                        break
                await anyio.sleep(0.2)
        yield server
    finally:
        await anyio.to_thread.run_sync(_stop, server)
