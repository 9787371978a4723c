"""64 concurrent writers through a real server: nothing fails, nothing acknowledged is lost.

Two uvicorn workers on SQLite (two processes share one file, as in production), one on
PostgreSQL (workers_for), serve 64 clients that create and edit posts, with reads in between,
ROUNDS requests each, all at once, each authenticated with a token from the real endpoint. Then
the database itself is read: every write that was acknowledged is there, and nothing else.

Each client has its own connection, as separate users would, and drops it after a second
idle. This test once failed with a single `ReadError('')`, from the client, not the server:
the writers shared one httpx pool whose busiest connections kept it busy while others sat
idle up to uvicorn's keep-alive timeout (5 s, httpx's default expiry is 5 s too). A request
sent on such a connection as uvicorn closed it was answered with a reset (one run counted 59
connections the server had closed under the pool). A shared pool can also close an idle
connection from one task after another task has just been given it (encode/httpcore#1110).
Neither happens to a client that owns its connection and lets it go long before the server
would. Under heavy load the client's own event loop can stall for seconds after a response
arrived, so its idle clock starts late; the server here keeps idle connections for 60 s
(KEEP_ALIVE_SECONDS), as it should behind a proxy, so its close never races a request.
"""

import asyncio
import contextlib
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.live import ssl_context
from tests.factories import login_through_endpoint
from tests.reliability.server import server_env, serving

pytestmark = pytest.mark.anyio

WRITERS = 64
ACCOUNTS = 16  # four writers share each account, and its token
# Requests per writer: 8 are 256 creates and 128 edits racing (4 and 2 per writer), the same
# work on a quiet or a loaded machine; a duration gave a loaded one fewer and a quiet one
# thousands more than the property needs. WRITERS_ROUNDS=100 for a longer soak.
ROUNDS = int(os.environ.get("WRITERS_ROUNDS", "8"))
# A client drops a connection idle this long, well before uvicorn's keep-alive timeout (5 s)
# closes it from the other end; see the module docstring.
LIMITS = httpx.Limits(max_connections=1, keepalive_expiry=1.0)


def workers_for(database_url: str) -> int:
    """Two workers on SQLite, where two processes writing one file is what can go wrong; one on
    PostgreSQL, where the writes race as transactions in the database whichever process sends
    them (one worker's ten pooled connections), and a second worker would cost another
    interpreter and the app's imports (3.7 CPU-s) for no other race."""
    return 2 if database_url.startswith("sqlite") else 1


def own_client(url: str) -> httpx.AsyncClient:
    """One user's client: its own connection, never shared with another task. (Unused for
    plain HTTP, the TLS context is the process's one, bench.live.ssl_context: each client
    would load the CA bundle again, which takes seconds for 64 clients on a busy machine.)"""
    return httpx.AsyncClient(base_url=url, timeout=60, limits=LIMITS, verify=ssl_context())


@dataclass
class Tally:
    created: dict[int, str] = field(default_factory=dict)  # acknowledged post id -> title
    edited: dict[int, str] = field(default_factory=dict)  # post id -> last acknowledged content
    errors: Counter[str] = field(default_factory=Counter)
    reads: int = 0


async def register(url: str, n: int) -> dict[str, str]:
    email, password = f"writer{n}@example.com", f"writer-password-{n}"
    body = {"username": f"writer{n}", "email": email, "password": password}
    async with own_client(url) as client:
        assert (await client.post("/api/users", json=body)).status_code == 201
        return await login_through_endpoint(client, email, password)


async def writer(
    client: httpx.AsyncClient, number: int, headers: dict[str, str], tally: Tally
) -> None:
    last_post: int | None = None
    for n in range(1, ROUNDS + 1):
        try:
            if n % 4 == 0 and last_post is not None:
                content = f"edited by writer {number}, write {n}"
                response = await client.patch(
                    f"/api/posts/{last_post}", json={"content": content}, headers=headers
                )
                if response.status_code == 200:
                    tally.edited[last_post] = content
                    continue
            elif n % 3 == 0:
                response = await client.get("/api/posts", params={"limit": 5})
                if response.status_code == 200:
                    tally.reads += 1
                    continue
            else:
                title = f"writer {number}, write {n}"
                response = await client.post(
                    "/api/posts", json={"title": title, "content": "concurrent"}, headers=headers
                )
                if response.status_code == 201:
                    last_post = response.json()["id"]
                    tally.created[last_post] = title
                    continue
            tally.errors[f"{response.status_code} {response.text[:200]}"] += 1
        except httpx.HTTPError as exc:
            tally.errors[repr(exc)] += 1


async def stored_posts(database_url: str) -> dict[int, tuple[str, str]]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT id, title, content FROM posts"))
            return {row.id: (row.title, row.content) for row in rows}
    finally:
        await engine.dispose()


async def test_concurrent_writers_lose_nothing(fresh_database_url: str, tmp_path: Path) -> None:
    env = server_env(
        fresh_database_url,
        tmp_path / "media",
        # At most 10 connections a worker: PostgreSQL is shared with others.
        db_pool_size=5,
        db_max_overflow=5,
        db_timeout_seconds=30,
        keep_alive_seconds=60,
        # Four writers per account write far more than 10 posts a minute: this test is about
        # losing nothing, not about the write budget (tests/social/test_write_limits.py).
        write_rate_limits=False,
    )
    tally = Tally()
    async with (
        serving(env, tmp_path / "server.log", workers=workers_for(fresh_database_url)) as server,
        contextlib.AsyncExitStack() as clients,
    ):
        url = server.url
        accounts = await asyncio.gather(*(register(url, n) for n in range(ACCOUNTS)))
        # Every client is made before the first one writes.
        own = [await clients.enter_async_context(own_client(url)) for _ in range(WRITERS)]
        started = time.monotonic()
        await asyncio.gather(
            *(writer(own[n], n, accounts[n % ACCOUNTS], tally) for n in range(WRITERS))
        )
        seconds = time.monotonic() - started
    log = server.log()
    stored = await stored_posts(fresh_database_url)

    print(
        f"\n{fresh_database_url.split(':')[0]}: {WRITERS} writers x {ROUNDS} in {seconds:.1f} s, "
        f"{len(tally.created)} posts and {len(tally.edited)} edits acknowledged, "
        f"{len(stored)} posts stored, {tally.reads} reads, {tally.errors.total()} errors"
    )
    assert tally.errors.total() == 0, tally.errors.most_common(5)
    assert "database is locked" not in log
    assert "Traceback" not in log, log
    assert len(tally.created) > WRITERS  # every writer got writes through
    assert {post_id: title for post_id, (title, _) in stored.items()} == tally.created
    for post_id, content in tally.edited.items():
        assert stored[post_id][1] == content
