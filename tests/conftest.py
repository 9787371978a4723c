"""Fixtures: one real database per backend, one app per test session, a clean slate per test.

The suite runs every database test twice: on a SQLite file and on PostgreSQL. PostgreSQL tests
need a server on 127.0.0.1:5432 (DATABASE_TEST_ADMIN_URL to change it); without one they are
skipped, except in CI, where an unreachable server fails the run. In CI (CI=true) no test may
be skipped for any reason: a skip is reported as a failure, with its reason.
"""

import asyncio
import atexit
import contextlib
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import asyncpg
import httpx
import pytest
import redis
from fastapi import FastAPI
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource
from sqlalchemy import pool, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, create_async_engine
from xdist.remote import Producer
from xdist.scheduler import LoadScopeScheduling
from xdist.scheduler.protocol import Scheduling

from fastblog.config import Settings
from fastblog.models import Base
from fastblog.resources import Resources
from fastblog.throttle import MemoryStore, login_throttle, mail_throttle
from tests.apps import create_app
from tests.asgi import (
    asgi_transport,
    kept_pages_of,
    resources_of,
    started,
    tag_list_cache_of,
)
from tests.connections import OpenConnections
from tests.factories import CHEAP_ARGON2, TEST_SECRET_KEY, StatementCounter
from tests.mutation_map import keep_the_mapped_tests

PG_ADMIN_URL = os.environ.get(
    "DATABASE_TEST_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
REDIS_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/13")


def _failed_in_ci(report: pytest.TestReport | pytest.CollectReport) -> None:
    """A skip in CI is a test that did not run, and an expected failure (xfail) one whose
    failure is hidden: either is reported as a failure, saying why."""
    if not (IN_CI and report.skipped):
        return
    if hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"marked xfail, which CI does not take (fix the cause): {report.wasxfail}"
        return
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    reason = reason.removeprefix("Skipped: ")
    report.outcome = "failed"
    report.longrepr = f"skipped in CI, where every test must run: {reason}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport() -> Iterator[None]:
    report: pytest.TestReport = yield
    _failed_in_ci(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report() -> Iterator[None]:
    report: pytest.CollectReport = yield
    _failed_in_ci(report)
    return report


# Every aiosqlite connection a test opens is followed; one left open with nothing to close it
# fails the module's last test, naming the test that opened it (tests/connections.py).
OPEN_CONNECTIONS = OpenConnections()


def pytest_configure(config: pytest.Config) -> None:
    OPEN_CONNECTIONS.install()


def pytest_unconfigure(config: pytest.Config) -> None:
    OPEN_CONNECTIONS.uninstall()


def pytest_runtest_logstart(nodeid: str) -> None:
    OPEN_CONNECTIONS.test = nodeid


@pytest.fixture(scope="module", autouse=True)
def no_connection_left_open() -> Iterator[None]:
    yield
    if leaks := OPEN_CONNECTIONS.leaks():
        listed = "\n".join(f"- {leak}" for leak in leaks)
        pytest.fail(f"aiosqlite connections left open by this module:\n{listed}", pytrace=False)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto` (make test): a worker per core this process may use and one more, at most
    four. A worker spends about a third of its time waiting (servers starting, Chromium,
    mails and polls), so on two cores a third worker fills the gaps: measured on the 2-core
    machine, the in-process and reliability folders took 10-15% less time with three workers
    than with two. Each worker has its own databases, app and servers; past four they mostly
    wait on one PostgreSQL."""
    if chosen := os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return int(chosen)
    return max(1, min(len(os.sched_getaffinity(0)) + 1, 4))


# Modules whose tests share something costly to start (make test: --dist loadscope gives each
# module to one worker): the HAProxy cluster (moto, a database, four processes), the browser's
# servers and Chromium, the fuzzing servers, the federated blog. Under xdist they go first: a
# long module handed out last would keep one worker busy while the others sit idle.
COSTLY_FIRST = (
    "tests/cluster/",
    "tests/browser/",
    "tests/reliability/test_fuzz.py",
    "tests/federation/test_against_remote.py",
    "tests/federation/test_against_mastodon.py",
)
# Folders whose modules share one worker's servers: the browser tests' Chromium and their two
# live servers (tests/browser/conftest.py) last while that worker's browser tests follow one
# another, and each restart costs ~10 CPU-s (Chromium, `fastblog db upgrade` and `fastblog
# serve` on each database, a PostgreSQL database copied). Module by module, xdist scattered
# the eleven browser modules among the others and nearly every one restarted them all.
# Likewise the two modules against one live federated blog (tests/federation/conftest.py:
# `blog`), a `fastblog serve` per database that each module used to start for itself.
# Test ids starting so → their work unit.
ONE_WORK_UNIT = {
    "tests/browser/": "tests/browser/",
    "tests/federation/test_against_remote.py": "tests/federation/ against a live blog",
    "tests/federation/test_against_mastodon.py": "tests/federation/ against a live blog",
}


class LoadScopeKeepingFolders(LoadScopeScheduling):
    """xdist's `--dist loadscope` (a module per work unit), but the tests of each unit of
    ONE_WORK_UNIT are run by one worker from their first to their last."""

    def _split_scope(self, nodeid: str) -> str:
        # The hook loadscope's subclasses override (xdist's own loadfile and loadgroup do).
        unit = next(
            (unit for start, unit in ONE_WORK_UNIT.items() if nodeid.startswith(start)), None
        )
        return unit or super()._split_scope(nodeid)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Producer) -> Scheduling | None:
    if config.getoption("dist") == "loadscope":
        return LoadScopeKeepingFolders(config, log)
    return None  # any other --dist: xdist's own


@pytest.hookimpl(trylast=True)  # after pytest's own ordering by fixture
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    keep_the_mapped_tests(config, items)  # under `make mutate` only
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    costly = {item for item in items if item.nodeid.startswith(COSTLY_FIRST)}
    items[:] = [item for item in items if item in costly] + [
        item for item in items if item not in costly
    ]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if IN_CI:
        skipped = len(terminalreporter.stats.get("skipped", []))
        terminalreporter.write_line(f"CI: {skipped} skipped (a skip in CI is a failure)")


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


async def _pg_admin(sql: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


# DROP DATABASE makes PostgreSQL (15) checkpoint at once and wait for it: every dirty buffer of
# the server written and every file touched since the last checkpoint synced, ~10,000 of them
# in a run (each copy of the migrated template has ~450). Beside two CPU-burning loops a test's
# DROP waited up to 26 s (log_min_duration_statement), and the tests of the other workers
# dirtying buffers meanwhile made the next one as slow. So a test's databases are only
# disconnected when it ends, and dropped when its test process ends, by a process of its own:
# xdist gives a finished worker 10 s to exit before it kills it, and a worker's dozens of
# DROPs (a checkpoint each) could outlast that and be left half done, as its templates were.
_DROPPED_AT_EXIT: list[str] = []
_DROP_DATABASES = """
import asyncio, sys, asyncpg
async def drop(url, names):
    connection = await asyncpg.connect(url, timeout=5)
    try:
        for name in names:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()
asyncio.run(drop(sys.argv[1], sys.argv[2:]))
"""


def drop_postgres_database_at_exit(name: str) -> None:
    if not _DROPPED_AT_EXIT:
        atexit.register(_drop_databases_after_exit)
    _DROPPED_AT_EXIT.append(name)


def _drop_databases_after_exit() -> None:
    names = list(reversed(_DROPPED_AT_EXIT))  # the copies before their template
    subprocess.Popen(
        [sys.executable, "-c", _DROP_DATABASES, PG_ADMIN_URL, *names],
        start_new_session=True,  # outlives this process, whoever ends it
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )


async def disconnect_postgres_database(name: str) -> None:
    """No connection left on the database (a server the test left, a pool's idle ones)."""
    await _pg_admin(
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
    )


def _postgres_or_skip() -> None:
    try:
        asyncio.run(_pg_admin("SELECT 1"))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        message = f"PostgreSQL unreachable at {PG_ADMIN_URL}: {exc!r}"
        if IN_CI:
            pytest.fail(message + " (CI requires it)", pytrace=False)
        pytest.skip(message)


@pytest.fixture
def redis_url() -> str:
    """A Redis database shared by the tests (keys of their own); skipped without a server,
    except in CI."""
    try:
        with redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2) as connection:
            connection.ping()
    except redis.RedisError as exc:
        message = f"Redis unreachable at {REDIS_URL}: {exc!r}"
        if IN_CI:
            pytest.fail(message + " (CI requires it)", pytrace=False)
        pytest.skip(message)
    return REDIS_URL


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The shared SQLite database of this test process: a copy of its migrated template
    (tests/migrated.py), which the tests of server processes copy too: one migration, not two."""
    from tests.migrated import migrated_sqlite

    return migrated_sqlite(tmp_path_factory.mktemp("sqlite") / "fastblog.db")


@contextmanager
def throwaway_postgres_database() -> Iterator[str]:
    """An empty PostgreSQL database (skipped, or failed in CI, without a server), then
    disconnected (dropped when the test process ends)."""
    _postgres_or_skip()
    name = f"fastblog_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    drop_postgres_database_at_exit(name)
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(disconnect_postgres_database(name))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway, migrated PostgreSQL database for this run (a copy of the template, as
    sqlite_url), dropped afterwards."""
    from tests.migrated import migrated_postgres, postgres_url_of

    with migrated_postgres() as name:
        yield postgres_url_of(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of its own (no tables), for tests of migrations, the CLI and a server."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    else:
        with throwaway_postgres_database() as url:
            yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def migrated_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated database of its own, for tests of the CLI, the seed and a server process."""
    from tests.migrated import migrated_postgres, migrated_sqlite, postgres_url_of

    if request.param == "sqlite":
        yield migrated_sqlite(tmp_path / "fastblog.db")
    else:
        with migrated_postgres() as name:
            yield postgres_url_of(name)


@pytest.fixture
def own_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A migrated database of this test's own, of the kind `database_url` is. Not the worker's
    shared one: the session app serving that one runs the mail outbox, the newsletter and
    federation senders too, and would take (and "send" to the log) what these apps queue."""
    from tests.migrated import migrated_postgres, migrated_sqlite, postgres_url_of

    if database_url.startswith("sqlite"):
        yield migrated_sqlite(tmp_path / "own.db")
    else:
        with migrated_postgres() as name:
            yield postgres_url_of(name)


@pytest.fixture(
    scope="session",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def database_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(database_url, tmp_path_factory.mktemp("media"))


class ExplicitSettings(Settings):
    """The app's settings from the values given and the defaults, nothing else: no environment
    variable and no `.env` file, so a developer's configuration cannot change a test."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def make_settings(database_url: str, media_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "media_dir": media_dir,
        "secret_key": TEST_SECRET_KEY,
        "process_pool_workers": 1,
        # Off unless a test is about them (tests/social/test_write_limits.py): a test that
        # writes a dozen posts as one user is not a spammer.
        "write_rate_limits": False,
        # The hosts the tests' clients name (http://testserver, http://blog, an inner address
        # behind a proxy), besides the defaults; tests/test_hosts.py checks the refusal.
        "allowed_hosts": ["localhost", "127.0.0.1", "::1", "testserver", "blog", "10.0.0.5"],
        # Accounts signed up in tests write posts, as every account did before roles (a
        # site's default is "reader"); tests of roles and sign-up set what they need.
        "new_account_role": "author",
        **CHEAP_ARGON2,
        # The digest loop's first pass runs at start-up, the next an hour later: the tests
        # about digests run passes themselves (tests/notifications/test_digest.py), and no
        # app's loop takes a digest from another test's database meanwhile.
        "notification_digest_poll_seconds": 3600,
        **overrides,
    }
    return ExplicitSettings(**values)


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with started(app):
        yield app


@pytest.fixture
def resources(app: FastAPI) -> Resources:
    """What the app's lifespan opened: its database, settings, mailer, throttle."""
    return resources_of(app)


@pytest.fixture
async def forget_statistics(resources: Resources) -> AsyncIterator[None]:
    """For a test that runs ANALYZE on the shared database. SQLite keeps the statistics in
    tables that emptying the others leaves (sqlite_stat1, sqlite_stat4), and every later test
    on that database planned by them: the comments queue's and the search's plan tests failed
    after tests/posts in one process. Dropped after the test from a connection of its own:
    the app's connections then read their whole schema again; the one that dropped them would
    keep each table's row estimate. (The next ANALYZE makes them again.)"""
    yield
    engine = resources.database.engine
    if engine.dialect.name == "sqlite":
        path = str(engine.url.database)

        def drop() -> None:
            with contextlib.closing(sqlite3.connect(path, timeout=30)) as connection:
                for table in ("sqlite_stat1", "sqlite_stat4"):
                    connection.execute(f"DROP TABLE IF EXISTS {table}")
                connection.commit()

        await anyio.to_thread.run_sync(drop)


async def reset_database(app: FastAPI, *, truncate: bool = False) -> None:
    async with resources_of(app).database.engine.connect() as connection:
        await _empty_retrying(connection, truncate=truncate)


async def reset_database_at(database_url: str) -> None:
    """reset_database before any app is started on it (one would start sending what the
    last test left in the mail outbox)."""
    engine = create_async_engine(database_url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await _empty_retrying(connection)
    finally:
        await engine.dispose()


async def _empty_retrying(connection: AsyncConnection, *, truncate: bool = False) -> None:
    # The app's background tasks write too (the outbox, the post watcher announcing a post a
    # test published): on PostgreSQL emptying every table can deadlock with one of
    # their transactions, and the database cancels one side. Ours then simply goes again.
    # A wait for a lock that a leftover connection never releases is no deadlock PostgreSQL
    # can see (the holder waits on our process, not on a lock): lock_timeout makes it a
    # retry, then an error naming the cause, instead of a test that waits forever.
    for attempt in range(3):
        try:
            async with connection.begin():
                if connection.dialect.name == "postgresql":
                    await connection.execute(text("SET LOCAL lock_timeout = '20s'"))
                    # The deferred triggers (tag_count_versions') fire with each DELETE, so
                    # the passes see and empty what they write, not after the last pass.
                    await connection.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
                await empty_tables(connection, truncate=truncate)
            return
        except DBAPIError as exc:
            gave_way = getattr(exc.orig, "sqlstate", None) in {"40P01", "55P03"}
            if not (gave_way or "deadlock" in str(exc)) or attempt == 2:
                raise


async def empty_tables(connection: AsyncConnection, *, truncate: bool = False) -> None:
    """Every table emptied and every id counter restarted, on either database.

    DELETE, children first, rather than TRUNCATE on PostgreSQL too: a TRUNCATE of the 31
    tables makes new files for each of them and their indexes, 0.4-0.9 s a test on the loaded
    2-core machine against 0.02-0.1 s for the DELETEs (the tables hold a test's few rows), and
    every PostgreSQL test pays it. `truncate`: new, empty files all the same (fresh_tables).

    Only the tables holding rows are emptied, asked in one statement: a test writes to a
    handful of the 31, and each statement is a round trip (to SQLite's thread, to
    PostgreSQL's socket) that on the loaded machine cost 3-4 ms of waiting: the 62 DELETEs of
    every table twice were most of each test's fixed cost. The question is asked again after
    each pass: deleting posts and tags fires the counting triggers, which may write counter
    rows that the pass already emptied."""
    tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
    postgres = connection.dialect.name == "postgresql"
    if truncate and postgres:
        names = ", ".join(tables)
        await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        return
    if not postgres:
        # AUTOINCREMENT tables keep their counter there; restart it, as PostgreSQL does.
        tables.append("sqlite_sequence")
    for _ in range(EMPTYING_PASSES):
        holding = await _tables_with_rows(connection, tables)
        if not holding:
            break
        for table in holding:
            await connection.execute(text(f"DELETE FROM {table}"))
    else:
        raise AssertionError(f"rows still in {holding} at the last of {EMPTYING_PASSES} passes")
    if postgres:
        # What TRUNCATE's RESTART IDENTITY did: each sequence starts over (a sequence moves on
        # with rows a test inserted and deleted, so all of them, whatever the tables hold).
        await connection.execute(
            text(
                "SELECT setval(format('%I.%I', schemaname, sequencename), start_value, false)"
                " FROM pg_sequences WHERE schemaname = current_schema()"
            )
        )


# Emptying, then the counter rows the triggers wrote meanwhile: two passes, a third to spare.
EMPTYING_PASSES = 3


async def _tables_with_rows(connection: AsyncConnection, tables: list[str]) -> list[str]:
    """The tables (of `tables`, in that order) that hold at least one row."""
    probe = " UNION ALL ".join(
        f"SELECT '{table}' AS name WHERE EXISTS (SELECT 1 FROM {table})" for table in tables
    )
    holding = set((await connection.execute(text(probe))).scalars())
    return [table for table in tables if table in holding]


@pytest.fixture
async def fresh_tables(app: FastAPI, client: httpx.AsyncClient) -> None:
    """For the tests of query plans: on PostgreSQL the tables TRUNCATEd too, as on a new
    blog. The planner prices a scan by the table's pages, and the DELETEs of every test's
    reset leave the dead rows' pages until autovacuum comes: a plan would depend on the tests
    that ran before on this worker."""
    await reset_database(app, truncate=True)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    await reset_database(app)
    resources_of(app).site.forget()  # the settings of an empty database: the environment's
    # Emptied, tag_count_versions counts from zero again: a tag list kept in an earlier test
    # could meet its version.
    tag_list_cache_of(app).forget()
    # And page_versions: a page kept in an earlier test could meet its version.
    kept_pages_of(app).forget()
    # Failed logins and reset mails are counted per client address: a test must not inherit
    # earlier ones.
    resources = resources_of(app)
    counters = MemoryStore()
    resources.login_throttle = login_throttle(resources.settings, counters)
    resources.mail_throttle = mail_throttle(resources.settings, counters)
    transport = asgi_transport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def session(app: FastAPI, client: httpx.AsyncClient) -> AsyncIterator[AsyncSession]:
    """A session on the app's own engine, for arranging data (after the reset)."""
    async with resources_of(app).database.session() as session:
        yield session


@pytest.fixture
def count_statements(app: FastAPI) -> StatementCounter:
    return StatementCounter(resources_of(app).database)
