"""Fixtures for the browser tests: the real app in its own process, driven by Debian's Chromium
(its headless shell, `apt-get install chromium-headless-shell`).

The server is started the way a user starts it (`fastblog serve` after `fastblog db upgrade`,
through bench.live) on a migrated SQLite file, and on a throwaway PostgreSQL database when one
is reachable. Without the headless shell the tests are skipped, except in CI, where they fail.
A failing test leaves a screenshot and the page's HTML in tests/artifacts/.

A worker starts its servers and one Chromium at its first browser test and stops them after
its last one in a row (`BrowserRun`); every test still gets a fresh browser context.
"""

import asyncio
import contextlib
import os
import re
import subprocess
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    expect,
    sync_playwright,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench import live
from bench.live import FASTBLOG, LiveServer
from tests.conftest import IN_CI, TEST_SECRET_KEY
from tests.migrated import migrated_postgres, migrated_sqlite, postgres_url_of
from tests.processes import clean_env

# Chromium's headless shell, as Playwright's own headless default: the same engine (Blink, V8,
# the network stack) without the full browser's user interface, which `chromium --headless`
# still starts. tests/browser took 52 CPU-s with /usr/bin/chromium and 26 with the shell
# (60 s and 39 s of wall time, one worker), the same 32 tests passing.
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium-headless-shell"))
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
BROWSER_TESTS = Path(__file__).resolve().parent
# Generous: the machine's two cores are shared, and argon2 takes its time.
ACTION_TIMEOUT_MS = 30_000

T = TypeVar("T")


def off_this_thread(function: Callable[[], T]) -> T:
    """`function()` in a thread of its own. While Chromium is open, sync Playwright keeps its
    event loop marked as running in this thread, and asyncio.run() (the migrations, the
    PostgreSQL admin statements) would refuse to start here."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function).result()


class LiveServers:
    """This worker's servers, one per database, each started when a test first needs it and
    kept until the end of the browser tests. Tests switch between the databases many times
    (the modules that run on both); starting a server at each switch cost about ten seconds."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self._tmp_path_factory = tmp_path_factory
        self._stack = contextlib.ExitStack()
        self._started: dict[str, LiveServer] = {}

    def get(self, database: str) -> LiveServer:
        if database not in self._started:
            self._started[database] = off_this_thread(lambda: self._start(database))
        return self._started[database]

    def _start(self, database: str) -> LiveServer:
        workdir = self._tmp_path_factory.mktemp(f"live-{database}")
        if database == "sqlite":
            # A copy of this worker's migrated template (tests/migrated.py): the upgrade
            # below then has nothing to do, on either database, as on a host's restart.
            database_url = migrated_sqlite(workdir / "fastblog.db")
        else:
            # A database of its own (skipped when PostgreSQL is unreachable): the in-process
            # tests empty theirs before each test, and its background tasks stay out of them.
            database_url = postgres_url_of(self._stack.enter_context(migrated_postgres()))
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
        self._started.clear()
        off_this_thread(self._stack.close)  # drops the PostgreSQL database: asyncio.run


class Chromium:
    """One Chromium for this worker's browser tests, started at the first that needs it.

    Launching it (the Playwright driver, then the browser's processes) cost a few CPU-seconds,
    which every module paid on each database when it was launched per module."""

    def __init__(self, executable: Path) -> None:
        self._executable = executable
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None

    def get(self) -> Browser:
        if self._browser is None:
            expect.set_options(timeout=ACTION_TIMEOUT_MS)
            playwright = sync_playwright().start()
            try:
                self._browser = playwright.chromium.launch(
                    executable_path=self._executable, headless=True, args=CHROMIUM_ARGS
                )
            except BaseException:
                playwright.stop()
                raise
            self._playwright = playwright
        return self._browser

    def close(self) -> None:
        """Also what gives this thread back its asyncio.run() (see off_this_thread)."""
        browser, playwright = self._browser, self._playwright
        self._browser = self._playwright = None
        try:
            if browser is not None:
                browser.close()
        finally:
            if playwright is not None:
                playwright.stop()


class BrowserRun:
    """What a worker's browser tests share while they run one after another: the servers and
    Chromium. It ends after the last of them (pytest_runtest_teardown below), before the
    worker goes on to other tests: Chromium's event loop would stop their asyncio.run(), and
    idle servers would still poll their databases. A later browser test starts it again."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory, chromium: Path) -> None:
        self.servers = LiveServers(tmp_path_factory)
        self.chromium = Chromium(chromium)

    def close(self) -> None:
        try:
            self.chromium.close()  # first: the servers' close runs asyncio.run
        finally:
            self.servers.close()


BROWSER_RUN = pytest.StashKey[BrowserRun]()


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium-headless-shell)"
        if IN_CI:
            pytest.fail(message + "; CI requires it", pytrace=False)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="session")
def browser_run(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory, chromium: Path
) -> Iterator[BrowserRun]:
    run = pytestconfig.stash[BROWSER_RUN] = BrowserRun(tmp_path_factory, chromium)
    try:
        yield run
    finally:
        del pytestconfig.stash[BROWSER_RUN]
        run.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, None, None]:
    """After the last browser test in a row, end the browser run (see BrowserRun)."""
    try:
        yield
    finally:
        if nextitem is None or BROWSER_TESTS not in nextitem.path.parents:
            run = item.config.stash.get(BROWSER_RUN, None)
            if run is not None:
                run.close()


# The flows whose pages differ by database run on both (test_accounts, test_publishing,
# test_search: sign-up to deletion, drafts to tags, each engine's search and snippets); a
# module about the browser's side of a page (layout, JavaScript, validators, forms of the admin
# and account pages) runs on SQLite alone: its server-side steps are the routes the in-process
# suite runs on both databases, and a browser test costs ~4 CPU-s of Chromium and the server.
SQLITE_ONLY = pytest.mark.parametrize("live_server", ["sqlite"], indirect=True)


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def live_server(request: pytest.FixtureRequest, browser_run: BrowserRun) -> LiveServer:
    """The app served by `fastblog serve` in a separate process, on a free loopback port.

    Shared by the worker's browser tests on that database: every browser test signs up its
    own, unique accounts and leaves the site's settings as it found them.
    """
    return browser_run.servers.get(request.param)


@pytest.fixture(scope="module")
def browser(browser_run: BrowserRun) -> Browser:
    return browser_run.chromium.get()


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

    off_this_thread(lambda: asyncio.run(update()))
