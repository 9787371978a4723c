"""A live server for the benchmarks and the tests: `fastblog serve`, as `make run` starts it.

On a free loopback port, in a process group of its own (Ctrl-C in the terminal reaches only
the caller, which then stops the server in order), ready once `/health` answers 200, and
always stopped: SIGTERM first (uvicorn finishes the requests in flight), SIGKILL to the
group if it has not exited in time.
"""

import asyncio
import atexit
import contextlib
import functools
import http.client
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path

import httpx

HOST = "127.0.0.1"
RESERVED_PORTS = {8000}  # the developers' own `make run`
REPO_ROOT = Path(__file__).resolve().parent.parent
FASTBLOG = str(Path(sys.executable).with_name("fastblog"))  # the console script of this venv
START_TIMEOUT = 60.0  # two shared cores: starting Python and importing the app can be slow
STOP_TIMEOUT = 45.0  # above `fastblog serve`'s 30 s graceful shutdown

# Every server still running, so an exception, Ctrl-C or SIGTERM cannot leak one.
_running: set["LiveServer"] = set()


@functools.cache
def ssl_context() -> ssl.SSLContext:
    """httpx's default SSL context (certifi's CA bundle, verification on), made once for every
    client of this process. httpx makes a new one for each client otherwise, ~45 ms of CPU on
    the 2-core machine: the federation tests' remote servers make a client per request, a few
    hundred a module. (The loopback servers speak plain HTTP; it is never used there.)"""
    return httpx.create_ssl_context()


def free_port(host: str = HOST) -> int:
    """A port the kernel has just handed out on loopback (another process may take it, rarely)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((host, 0))
            port: int = probe.getsockname()[1]
        if port not in RESERVED_PORTS:
            return port


def serve_command(
    port: int, *, workers: int = 1, app: str | None = None, host: str = HOST
) -> list[str]:
    """`fastblog serve` as the Makefile runs it; another app factory (the benchmark's ceiling,
    the tests' app) through the same function, hence the very same uvicorn settings."""
    if app is None:
        return [FASTBLOG, "serve", f"--host={host}", f"--port={port}", f"--workers={workers}"]
    code = f"from fastblog.cli import serve; serve({host!r}, {port}, {workers}, False, app={app!r})"
    return [sys.executable, "-c", code]


class LiveServer:
    def __init__(
        self,
        env: Mapping[str, str],
        *,
        app: str | None = None,
        workers: int = 1,
        log_path: Path | None = None,
        cwd: Path = REPO_ROOT,
        host: str = HOST,
        port: int | None = None,
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.url = f"http://{host}:{self.port}"
        self.command = serve_command(self.port, workers=workers, app=app, host=host)
        self.env, self.workers, self.cwd = dict(env), workers, cwd
        self.log_path = log_path or Path(tempfile.mkstemp(prefix="fastblog-", suffix=".log")[1])
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:  # a restarted server adds to its log
            self.process = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, workers included
            )
        _running.add(self)

    def check_starting(self, deadline: float) -> None:
        assert self.process is not None, "start() first"
        if self.process.poll() is not None:
            raise RuntimeError(f"the server exited at start-up:\n{self.log_tail()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server was not ready in {START_TIMEOUT} s:\n{self.log_tail()}")

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            self.check_starting(deadline)
            with contextlib.suppress(OSError, http.client.HTTPException):
                if self.get("/health", timeout=2)[0] == 200:
                    return
            time.sleep(0.1)

    async def wait_ready_async(self) -> None:
        """Without blocking the caller's event loop (which may run a proxy the server uses)."""
        deadline = time.monotonic() + START_TIMEOUT
        async with httpx.AsyncClient(
            base_url=self.url, timeout=2, trust_env=False, verify=ssl_context()
        ) as client:
            while True:
                self.check_starting(deadline)
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get("/health")).status_code == 200:
                        return
                await asyncio.sleep(0.1)

    def get(self, path: str, timeout: float = 10) -> tuple[int, bytes]:
        """One GET on a fresh connection: the status and the body."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def terminate(self) -> None:
        """SIGTERM, what a process manager sends; the server shuts down gracefully."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL to its process group: the machine died; nothing is finished or closed."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(STOP_TIMEOUT)

    def wait(self, timeout: float = STOP_TIMEOUT) -> int:
        """The exit code, once the server has exited."""
        assert self.process is not None, "start() first"
        return self.process.wait(timeout)

    def stop(self) -> None:
        _running.discard(self)
        if self.process is None:
            return
        self.terminate()
        try:
            self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):  # the group start() created
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(STOP_TIMEOUT)


@contextlib.contextmanager
def live_server(
    env: Mapping[str, str],
    *,
    app: str | None = None,
    workers: int = 1,
    log_path: Path | None = None,
    cwd: Path = REPO_ROOT,
) -> Iterator[LiveServer]:
    """A started, ready server, stopped on the way out."""
    server = LiveServer(env, app=app, workers=workers, log_path=log_path, cwd=cwd)
    try:
        server.start()
        server.wait_ready()
        yield server
    finally:
        server.stop()


@contextlib.asynccontextmanager
async def live_server_async(
    env: Mapping[str, str],
    *,
    app: str | None = None,
    workers: int = 1,
    log_path: Path | None = None,
    cwd: Path = REPO_ROOT,
) -> AsyncIterator[LiveServer]:
    server = LiveServer(env, app=app, workers=workers, log_path=log_path, cwd=cwd)
    try:
        server.start()
        await server.wait_ready_async()
        yield server
    finally:
        await asyncio.to_thread(server.stop)


def bearer_headers(base_url: str, username: str, password: str) -> dict[str, str]:
    """Log in once through the real token route; the `Authorization` header to send."""
    response = httpx.post(
        f"{base_url}/api/users/token",
        data={"username": username, "password": password},
        timeout=30,
        trust_env=False,
        verify=ssl_context(),
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _raise_system_exit(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def stop_all() -> None:
    for server in list(_running):
        server.stop()


def stop_servers_on_exit() -> None:
    """For a command-line harness: stop every server on exit, SIGTERM included."""
    atexit.register(stop_all)
    signal.signal(signal.SIGTERM, _raise_system_exit)
