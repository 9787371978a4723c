"""Fixtures for the browser tests: the real app in its own process, driven by Debian's Chromium.

The server is started the way a user starts it (uvicorn with the app factory, after
`fastblog db upgrade`) on a fresh SQLite file, and on a throwaway PostgreSQL database when one
is reachable. Without /usr/bin/chromium the tests are skipped, except in CI, where they fail.
A failing test leaves a screenshot and the page's HTML in tests/artifacts/.
"""

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.conftest import IN_CI, TEST_SECRET_KEY
from tests.processes import clean_env

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
# Without the background-networking flags Chromium tries to reach the internet (closed here).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS_DIR = Path(__file__).resolve().parents[1] / "artifacts"
STARTUP_TIMEOUT_S = 60
# Generous: the machine's two cores are shared, and argon2 takes its time.
ACTION_TIMEOUT_MS = 30_000


@dataclass(frozen=True)
class LiveServer:
    url: str
    log_file: Path

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_file.read_text(errors="replace") if self.log_file.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _fastblog_command() -> str:
    # The console script installed beside this interpreter (the project's venv).
    return str(Path(sys.executable).with_name("fastblog"))


def _wait_until_healthy(process: subprocess.Popen[bytes], url: str, server: LiveServer) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"the server exited with {process.returncode}:\n{server.log_tail()}", pytrace=False
            )
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(
        f"the server did not answer /health in {STARTUP_TIMEOUT_S} s:\n{server.log_tail()}",
        pytrace=False,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()  # uvicorn shuts down gracefully on SIGTERM
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(
    scope="session",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def live_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The app served by uvicorn in a separate process, on a free loopback port.

    On PostgreSQL it shares the run's throwaway database with the in-process tests (which
    empty it before each of theirs); every browser test signs up its own, unique accounts.
    """
    workdir = tmp_path_factory.mktemp(f"live-{request.param}")
    if request.param == "sqlite":
        database_url = f"sqlite+aiosqlite:///{workdir / 'fastblog.db'}"
    else:
        database_url = request.getfixturevalue("postgres_url")  # skips when unreachable
    env = clean_env(
        database_url=database_url,
        media_dir=workdir / "media",
        secret_key=TEST_SECRET_KEY,
        process_pool_workers=1,
        log_level="WARNING",
    )
    # The working directory is the temp dir, so a developer's .env is not read.
    migrate = subprocess.run(
        [_fastblog_command(), "db", "upgrade"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if migrate.returncode != 0:
        pytest.fail(f"fastblog db upgrade failed:\n{migrate.stderr}", pytrace=False)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = LiveServer(url=url, log_file=workdir / "server.log")
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "fastblog.main:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "info",  # the access log: what the browser asked, shown when a test fails
    ]
    with server.log_file.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        _wait_until_healthy(process, url, server)
        yield server
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if IN_CI:
            pytest.fail(message + "; CI requires it", pytrace=False)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="module")
def browser(chromium: Path, live_server: LiveServer) -> Iterator[Browser]:
    """Chromium, started after the server and stopped before it (and at the end of a module).

    Sync Playwright keeps an asyncio loop running in this thread while it is open, and then
    asyncio.run() (the PostgreSQL fixtures, the anyio tests of other modules) would refuse to
    start. Depending on `live_server` makes pytest close the browser before it switches the
    server to the next database.
    """
    expect.set_options(timeout=ACTION_TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_context_options() -> dict[str, object]:
    """Overridden by a test (or a module) that needs, say, JavaScript turned off."""
    return {}


@pytest.fixture
def context(
    live_server: LiveServer, browser: Browser, browser_context_options: dict[str, object]
) -> Iterator[BrowserContext]:
    """A fresh profile per test: no cookie or cache shared with another test."""
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 1024, "height": 768},
        **browser_context_options,  # type: ignore[arg-type]
    )
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    context.set_default_navigation_timeout(ACTION_TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def save_artifacts(page: Page, name: str) -> list[Path]:
    """A full-page screenshot and the HTML, named after the test."""
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^\w.-]+", "_", name).strip("_")
    screenshot = ARTIFACTS_DIR / f"{stem}.png"
    html = ARTIFACTS_DIR / f"{stem}.html"
    page.screenshot(path=screenshot, full_page=True, timeout=10_000)
    html.write_text(page.content())
    return [screenshot, html]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """On a failed browser test, keep what the browser showed (the page is still open here)."""
    report: pytest.TestReport = yield
    if report.when != "call" or not report.failed:
        return report
    funcargs = getattr(item, "funcargs", {})
    page = funcargs.get("page")
    if isinstance(page, Page) and not page.is_closed():
        try:
            saved = "\n".join(str(path) for path in save_artifacts(page, item.nodeid))
        except Exception as exc:  # never hide the test's own failure behind this one
            saved = f"could not save the page: {exc!r}"
        report.sections.append(("browser artifacts", f"url: {page.url}\n{saved}"))
    server = funcargs.get("live_server")
    if isinstance(server, LiveServer):
        report.sections.append(("server log (tail)", server.log_tail() or "(empty)"))
    return report
