"""Fixtures for the browser tests: the real app in its own process, driven by Debian's Chromium.

The server is started the way a user starts it (`fastblog serve` after `fastblog db upgrade`,
through bench.live) on a migrated SQLite file, and on a throwaway PostgreSQL database when one
is reachable. Without /usr/bin/chromium the tests are skipped, except in CI, where they fail.
A failing test leaves a screenshot and the page's HTML in tests/artifacts/.
"""

import asyncio
import contextlib
import os
import re
import subprocess
from collections.abc import Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench import live
from bench.live import FASTBLOG, LiveServer
from tests.conftest import IN_CI, TEST_SECRET_KEY
from tests.migrated import migrated_sqlite
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
# Generous: the machine's two cores are shared, and argon2 takes its time.
ACTION_TIMEOUT_MS = 30_000


class LiveServers:
    """This worker's servers, one per database, each started when a test first needs it and
    kept until the end of the run. Tests switch between the databases many times in a run
    (pytest-xdist hands out modules, and each module runs on both); starting a server at
    each switch cost about ten seconds each time."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self._tmp_path_factory = tmp_path_factory
        self._stack = contextlib.ExitStack()
        self._started: dict[str, LiveServer] = {}

    def get(self, database: str, request: pytest.FixtureRequest) -> LiveServer:
        if database not in self._started:
            self._started[database] = self._start(database, request)
        return self._started[database]

    def _start(self, database: str, request: pytest.FixtureRequest) -> LiveServer:
        workdir = self._tmp_path_factory.mktemp(f"live-{database}")
        if database == "sqlite":
            # A copy of this worker's migrated template (tests/migrated.py): the upgrade
            # below then has nothing to do, on either database, as on a host's restart.
            database_url = migrated_sqlite(workdir / "fastblog.db")
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
            [FASTBLOG, "db", "upgrade"],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if migrate.returncode != 0:
            pytest.fail(f"fastblog db upgrade failed:\n{migrate.stderr}", pytrace=False)
        # `fastblog serve` as `make run` starts it; its access log shows what the browser
        # asked when a test fails.
        return self._stack.enter_context(
            live.live_server(env, log_path=workdir / "server.log", cwd=workdir)
        )

    def close(self) -> None:
        self._stack.close()


@pytest.fixture(scope="session")
def live_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServers]:
    servers = LiveServers(tmp_path_factory)
    try:
        yield servers
    finally:
        servers.close()


@pytest.fixture(
    scope="session",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def live_server(request: pytest.FixtureRequest, live_servers: LiveServers) -> LiveServer:
    """The app served by `fastblog serve` in a separate process, on a free loopback port.

    On PostgreSQL it shares the run's throwaway database with the in-process tests (which
    empty it before each of theirs); every browser test signs up its own, unique accounts
    and leaves the site's settings as it found them.
    """
    return live_servers.get(request.param, request)


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


def set_role(server: LiveServer, username: str, role: str) -> None:
    """What `fastblog users set-role` does, straight in the server's database (the role is
    read with the user on every request, so it counts at once)."""

    async def update() -> None:
        engine = create_async_engine(server.env["DATABASE_URL"])
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    text("UPDATE users SET role = :role WHERE username = :username"),
                    {"role": role, "username": username},
                )
        finally:
            await engine.dispose()

    # In a thread of its own: Playwright keeps an event loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, update()).result()
