"""Start an ASGI app under uvicorn in its own process group, and always stop it."""

import atexit
import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

HOST = "127.0.0.1"
RESERVED_PORTS = {8000}  # the developers' own `make run`
REPO_ROOT = Path(__file__).resolve().parent.parent
STOP_GRACE_SECONDS = 10

# Every server still running, so an exception, Ctrl-C or SIGTERM cannot leak one.
_running: set["Server"] = set()


def free_port() -> int:
    """A port the kernel has just handed out on loopback (it may be reused, rarely)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((HOST, 0))
            port: int = probe.getsockname()[1]
        if port not in RESERVED_PORTS:
            return port


def uvicorn_flags(workers: int) -> list[str]:
    """The same flags for the app and the ceiling, so the ratio compares apps, not servers.

    The access log is off in both: it would measure writing to a pipe.
    """
    return [
        f"--workers={workers}",
        "--log-level=warning",
        "--no-access-log",
        "--timeout-graceful-shutdown=5",
    ]


class Server:
    def __init__(self, app: str, *, env: dict[str, str] | None = None, workers: int = 1) -> None:
        self.app = app
        self.workers = workers
        self.port = free_port()
        self.base_url = f"http://{HOST}:{self.port}"
        self.env = {**os.environ, **(env or {})}
        self.log = Path(tempfile.mkstemp(prefix="fastblog-bench-", suffix=".log")[1])
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, ready_path: str = "/health", timeout: float = 30) -> None:
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            self.app,
            "--factory",
            f"--host={HOST}",
            f"--port={self.port}",
            *uvicorn_flags(self.workers),
        ]
        with self.log.open("wb") as log:
            # A session of its own: Ctrl-C in the terminal reaches only the harness,
            # which then stops the server in order instead of leaving half of it.
            self.process = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _running.add(self)
        self._wait_ready(ready_path, timeout)

    def _wait_ready(self, path: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.app} exited at start-up:\n{self.log_tail()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                if self.get(path, timeout=2)[0] == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"{self.app} not ready within {timeout} s:\n{self.log_tail()}")

    def get(self, path: str, timeout: float = 10) -> tuple[int, bytes]:
        """One GET on a fresh connection: the status and the body."""
        connection = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def worker_pids(self) -> list[int]:
        """The processes that serve requests: uvicorn itself, or its spawned workers."""
        if self.process is None:
            return []
        if self.workers == 1:
            return [self.process.pid]
        return [
            pid
            for pid in _children(self.process.pid)
            if b"spawn_main" in _read_proc(pid, "cmdline")  # not the resource tracker
        ]

    def peak_rss_bytes(self) -> dict[int, int]:
        """Peak resident memory (VmHWM) of each worker so far, by pid."""
        peaks = {}
        for pid in self.worker_pids():
            for line in _read_proc(pid, "status").decode().splitlines():
                if line.startswith("VmHWM:"):
                    peaks[pid] = int(line.split()[1]) * 1024
        return peaks

    def stop(self) -> None:
        process, self.process = self.process, None
        _running.discard(self)
        if process is None:
            return
        try:
            self._terminate(process)
        finally:
            self.log.unlink(missing_ok=True)  # start-up failures already quoted its tail

    def _terminate(self, process: "subprocess.Popen[bytes]") -> None:
        if process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)  # uvicorn finishes in-flight requests, then exits
        try:
            process.wait(STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            # The group is the one start() created: only this server and its workers.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(STOP_GRACE_SECONDS)

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


@contextlib.contextmanager
def serving(
    app: str, *, env: dict[str, str] | None = None, workers: int = 1, ready_path: str = "/health"
) -> Iterator[Server]:
    with Server(app, env=env, workers=workers) as server:
        server.start(ready_path)
        yield server


def stop_all() -> None:
    for server in list(_running):
        server.stop()


def _raise_system_exit(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def install_cleanup() -> None:
    """Stop every server on exit, including on SIGTERM (turned into SystemExit)."""
    atexit.register(stop_all)
    signal.signal(signal.SIGTERM, _raise_system_exit)


def _children(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _read_proc(int(entry.name), "stat")
            # Field 4 is the parent pid; the command name before it may contain spaces.
            if stat and int(stat.rsplit(b")", 1)[1].split()[1]) == pid:
                children.append(int(entry.name))
    return children


def _read_proc(pid: int, name: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/{name}").read_bytes()
    except OSError:
        return b""
