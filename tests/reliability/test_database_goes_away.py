"""The database goes away under a running server, and comes back.

PostgreSQL: the app's connections are killed (pg_terminate_backend, also in the middle of a
query), then the database becomes unreachable through a proxy the test controls (refusing
connections, then answering nothing at all). Requests get a 503 with a clear message, JSON
for the API and an HTML page for the site, within the timeout setting; /ready says not
ready; and once the database is back the same server process serves again on its own.

SQLite: a database that cannot be written stops the app at start-up with a message naming
the problem; a full disk (SQLite's own page limit, here) is a 503, and nothing is half-stored.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from fastblog.db.engine import create_engine, is_database_unavailable
from fastblog.errors import DATABASE_UNAVAILABLE
from tests.conftest import PG_ADMIN_URL, make_settings
from tests.factories import login_through_endpoint
from tests.reliability.databases import (
    postgres_database,
    postgres_dsn,
    terminate_connections,
    wait_for_query,
)
from tests.reliability.proxy import TcpProxy, tcp_proxy
from tests.reliability.server import Server, server_env, serving

pytestmark = pytest.mark.anyio

DB_TIMEOUT = 2.0  # seconds: DB_TIMEOUT_SECONDS of the server under test
ANSWER_WITHIN = 4 * DB_TIMEOUT + 5  # wait for the pool, connect, query, plus slack on 2 cores
RECOVER_WITHIN = 30.0


@pytest.fixture(scope="module")
def postgres_name() -> Iterator[str]:
    with postgres_database() as name:
        yield name


class App:
    """The server under test, its client, and a user's bearer token."""

    def __init__(self, server: Server, client: httpx.AsyncClient, database: str) -> None:
        self.server = server
        self.client = client
        self.database = database
        self.headers: dict[str, str] = {}
        self.slowest_503 = 0.0

    async def sign_up(self) -> None:
        body = {"username": "faults", "email": "faults@example.com", "password": "faults-password"}
        assert (await self.client.post("/api/users", json=body)).status_code == 201
        self.headers = await login_through_endpoint(self.client, body["email"], body["password"])

    async def timed(self, method: str, url: str, **kwargs: object) -> tuple[httpx.Response, float]:
        start = time.monotonic()
        response = await self.client.request(method, url, **kwargs)  # type: ignore[arg-type]
        seconds = time.monotonic() - start
        self.slowest_503 = max(self.slowest_503, seconds)
        return response, seconds

    async def assert_unavailable(self) -> None:
        """Every kind of request, all at once as an outage meets them: a 503 saying so, in
        time. The process is still serving. (One after another, the blackholed database's
        seven waits took ~15 s of the suite.)"""
        post = {"title": "t", "content": "c"}
        await asyncio.gather(
            self.assert_api_unavailable("GET", "/api/posts"),
            self.assert_api_unavailable("POST", "/api/posts", json=post, headers=self.headers),
            self.assert_api_unavailable("GET", "/api/users/me", headers=self.headers),
            self.assert_api_unavailable(
                "POST", "/api/users/token", data={"username": "a@b.c", "password": "x"}
            ),
            self.assert_page_unavailable("/"),
            self.assert_page_unavailable("/posts/1"),
            self.assert_not_ready(),
        )
        # No account enumeration: the same 202 as always; the mail cannot go (logged).
        forgot = await self.client.post(
            "/api/users/forgot-password", json={"email": "faults@example.com"}
        )
        assert forgot.status_code == 202
        assert (await self.client.get("/health")).status_code == 200  # the process is alive

    async def assert_api_unavailable(self, method: str, url: str, **kwargs: object) -> None:
        response, seconds = await self.timed(method, url, **kwargs)
        assert response.status_code == 503, (method, url, response.text)
        assert response.json() == {"detail": DATABASE_UNAVAILABLE}
        assert response.headers["retry-after"].isdigit()
        assert seconds < ANSWER_WITHIN, (method, url, seconds)

    async def assert_page_unavailable(self, url: str) -> None:
        page, seconds = await self.timed("GET", url)
        assert page.status_code == 503
        assert page.headers["content-type"].startswith("text/html")
        assert DATABASE_UNAVAILABLE in page.text
        assert seconds < ANSWER_WITHIN, (url, seconds)

    async def assert_not_ready(self) -> None:
        ready, seconds = await self.timed("GET", "/ready")
        assert ready.status_code == 503
        # Refused at once, or still failing when the probe's own timeout ends: not ready.
        body = ready.json()
        assert body["status"] == "unavailable"
        assert body["database"] in ("unreachable", "timeout")
        assert body["checks"] == {"database": body["database"]}
        assert seconds < ANSWER_WITHIN

    async def assert_recovers(self) -> None:
        """Without a restart, the same process answers normally again."""
        pid = self.server.process.pid
        deadline = time.monotonic() + RECOVER_WITHIN
        while (await self.client.get("/ready")).status_code != 200:
            assert time.monotonic() < deadline, "did not recover"
        posts = await self.client.get("/api/posts")
        assert posts.status_code == 200
        created = await self.client.post(
            "/api/posts", json={"title": "back", "content": "again"}, headers=self.headers
        )
        assert created.status_code == 201
        assert (await self.client.get("/")).status_code == 200
        assert self.server.process.pid == pid
        assert self.server.process.poll() is None


@pytest.fixture(scope="module")
async def shared_app(
    postgres_name: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[App, TcpProxy]]:
    """One server behind one proxy for the module's tests: each ends with the server serving
    again (App.assert_recovers), so the next one finds it as a new one, and a server start (an
    interpreter and the app's imports, 3.2 CPU-s) is paid once instead of once a test."""
    folder = tmp_path_factory.mktemp("database-goes-away")
    admin = make_url(PG_ADMIN_URL)
    async with tcp_proxy(admin.host or "127.0.0.1", admin.port or 5432) as proxy:
        env = server_env(
            postgres_dsn(postgres_name, port=proxy.port),
            folder / "media",
            db_timeout_seconds=DB_TIMEOUT,
            db_pool_size=3,
            db_max_overflow=2,
        )
        async with (
            serving(env, folder / "server.log") as server,
            httpx.AsyncClient(base_url=server.url, timeout=60) as client,
        ):
            app = App(server, client, postgres_name)
            await app.sign_up()
            yield app, proxy
        assert "Traceback" not in server.log(), server.log()


@pytest.fixture
async def app_behind_proxy(
    shared_app: tuple[App, TcpProxy],
) -> AsyncIterator[tuple[App, TcpProxy]]:
    app, proxy = shared_app
    app.slowest_503 = 0.0
    yield app, proxy
    # A test that failed half-way may have left the database away: back for the next one.
    await proxy.forward()


@pytest.mark.postgres
async def test_killed_connections_are_replaced(app_behind_proxy: tuple[App, TcpProxy]) -> None:
    app, _ = app_behind_proxy
    for _ in range(3):  # fill the pool with connections
        assert (await app.client.get("/api/posts")).status_code == 200

    assert await terminate_connections(app.database) > 0

    # The pool's pre-ping finds them dead and reconnects: the very next requests just work.
    for _ in range(3):
        assert (await app.client.get("/api/posts")).status_code == 200
        assert (await app.client.get("/")).status_code == 200
    await app.assert_recovers()


@pytest.mark.postgres
async def test_a_connection_killed_mid_query_is_a_503(
    app_behind_proxy: tuple[App, TcpProxy],
) -> None:
    app, _ = app_behind_proxy
    in_flight = asyncio.create_task(app.client.get("/api/test/db-sleep", params={"seconds": 20}))
    await wait_for_query(app.database, "pg_sleep")
    assert await terminate_connections(app.database) > 0
    response = await in_flight

    assert response.status_code == 503
    assert response.json() == {"detail": DATABASE_UNAVAILABLE}
    await app.assert_recovers()


@pytest.mark.postgres
async def test_unreachable_database_is_a_503_then_recovers(
    app_behind_proxy: tuple[App, TcpProxy],
) -> None:
    app, proxy = app_behind_proxy

    await proxy.refuse()  # connection refused: the database is down
    await app.assert_unavailable()
    await proxy.forward()
    await app.assert_recovers()

    print(f"\nrefused: slowest 503 in {app.slowest_503:.2f} s")

    await proxy.blackhole()  # nothing answers: the worst case, bounded by the timeout
    app.slowest_503 = 0.0
    await app.assert_unavailable()
    print(f"blackholed: slowest 503 in {app.slowest_503:.2f} s (DB_TIMEOUT_SECONDS={DB_TIMEOUT})")
    await proxy.forward()
    await app.assert_recovers()


@pytest.mark.postgres
async def test_a_connection_cut_while_it_is_made_is_the_database_being_away(
    postgres_name: str, tmp_path: Path
) -> None:
    """A connection cut in the middle of its handshake (the database coming back, a network
    reset) reaches the app as SQLAlchemy's plain DBAPIError, without a connection to call
    invalidated: still an outage (a 503 and one line in the log), not a bug (a 500 and a
    traceback, as a reset mail's background task once logged)."""

    async def connect(engine: AsyncEngine) -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    admin = make_url(PG_ADMIN_URL)
    async with tcp_proxy(admin.host or "127.0.0.1", admin.port or 5432) as proxy:
        await proxy.blackhole()
        settings = make_settings(postgres_dsn(postgres_name, port=proxy.port), tmp_path)
        engine = create_engine(settings)  # as the app connects (no TLS on loopback)
        try:
            proxy.accepted.clear()
            connecting = asyncio.create_task(connect(engine))
            async with asyncio.timeout(10):
                await proxy.accepted.wait()
            await proxy.forward()  # the hung connection is cut
            with pytest.raises(DBAPIError) as raised:
                await connecting
        finally:
            await engine.dispose()

    assert "closed in the middle of operation" in str(raised.value)
    assert is_database_unavailable(raised.value)
