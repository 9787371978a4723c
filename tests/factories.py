"""Test data builders, the people and post fixtures several test folders share (their
conftests import them), and a SQL statement counter."""

import itertools
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import httpx
import pytest
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import event, update
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from fastblog.accounts.tokens import create_access_token
from fastblog.db import Database
from fastblog.posts.models import Post

_sequence = itertools.count(1)

PASSWORD = "correct horse battery staple"
TEST_SECRET_KEY = "test-secret-key-that-is-long-enough-for-hs256-0123456789"
# Every app and server the tests start hashes passwords at OWASP's minimum argon2id cost, a
# fifth of the default's work: still argon2id, through the same code; the default cost has a
# test of its own (tests/auth/test_hashing.py).
CHEAP_ARGON2 = {"argon2_memory_kib": 19456, "argon2_time_cost": 2, "argon2_parallelism": 1}


@lru_cache
def password_hash() -> str:
    """Hashed once per run: argon2 is slow on purpose, and every factory user shares it. At
    the tests' cost (CHEAP_ARGON2), as the apps hash: a hash carries its own parameters, so
    each login verifies at the cost it was made with, and hundreds of logins a run log in
    with it (the default cost did five times the work)."""
    cheap = Argon2Hasher(
        memory_cost=CHEAP_ARGON2["argon2_memory_kib"],
        time_cost=CHEAP_ARGON2["argon2_time_cost"],
        parallelism=CHEAP_ARGON2["argon2_parallelism"],
    )
    return PasswordHash((cheap,)).hash(PASSWORD)


@lru_cache
def default_cost_password_hash() -> str:
    """PASSWORD at pwdlib's default cost, for the tests of hashing itself."""
    return PasswordHash.recommended().hash(PASSWORD)


async def make_user(session: AsyncSession, **overrides: Any) -> User:
    n = next(_sequence)
    values: dict[str, Any] = {
        "username": f"user{n}",
        "email": f"user{n}@example.com",
        "password_hash": password_hash(),
        # One who publishes, as every account did before roles; role tests pass their own.
        "role": "author",
    }
    values.update(overrides)
    user = User(**values)
    session.add(user)
    await session.commit()
    return user


async def login(
    client: httpx.AsyncClient, user: User | Mapping[str, Any], password: str = PASSWORD
) -> dict[str, str]:
    """Bearer headers for `user` (a User, or a user as the API returned it).

    Minted with the app's own token function and the test secret rather than through
    POST /api/users/token: the endpoint has tests of its own, and an argon2 verify per
    test would slow the whole suite by minutes. `client` and `password` keep the call
    shape of a real login.
    """
    user_id = user.id if isinstance(user, User) else user["id"]
    token = create_access_token(user_id, secret=TEST_SECRET_KEY, lifetime=timedelta(minutes=5))
    return {"Authorization": f"Bearer {token}"}


async def login_through_endpoint(
    client: httpx.AsyncClient, identifier: str, password: str = PASSWORD
) -> dict[str, str]:
    """Bearer headers from the real token endpoint, through any async client (in-process or
    to a live server; bench.live.bearer_headers is the synchronous twin)."""
    response = await client.post(
        "/api/users/token", data={"username": identifier, "password": password}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def make_posts(
    session: AsyncSession, author: User, count: int, *, start: datetime | None = None
) -> list[Post]:
    """`count` posts one minute apart, the last one newest."""
    start = start or datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    posts = [
        Post(
            title=f"Post {n} by {author.username}",
            content=f"Body of post {n}.",
            user_id=author.id,
            date_posted=start + timedelta(minutes=n),
        )
        for n in range(1, count + 1)
    ]
    session.add_all(posts)
    await session.commit()
    return posts


# A post's author, a reader who is someone else, and one published post by the author.
@pytest.fixture
async def author(session: AsyncSession) -> User:
    return await make_user(session, username="author")


@pytest.fixture
async def reader(session: AsyncSession) -> User:
    return await make_user(session, username="reader")


@pytest.fixture
async def post(session: AsyncSession, author: User) -> Post:
    (post,) = await make_posts(session, author, 1)
    return post


# Pass as a field's value to leave that field out of the request body.
OMIT: Any = object()


def _body(defaults: dict[str, Any], fields: Mapping[str, Any]) -> dict[str, Any]:
    merged = {**defaults, **fields}
    return {name: value for name, value in merged.items() if value is not OMIT}


async def api_create_user(client: httpx.AsyncClient, **fields: Any) -> httpx.Response:
    """POST /api/users with valid defaults; `fields` override them (OMIT leaves one out)."""
    n = next(_sequence)
    defaults = {"username": f"writer{n}", "email": f"writer{n}@example.com", "password": PASSWORD}
    return await client.post("/api/users", json=_body(defaults, fields))


async def api_create_post(
    client: httpx.AsyncClient, author: User | Mapping[str, Any], **fields: Any
) -> httpx.Response:
    """POST /api/posts as `author` (a User or a user as the API returned it), logged in
    through the token endpoint: the one place that knows how a post gets its author."""
    defaults = {"title": "A title", "content": "Some words."}
    headers = await login(client, author)
    return await client.post("/api/posts", json=_body(defaults, fields), headers=headers)


async def api_created_post(
    client: httpx.AsyncClient, author: User | Mapping[str, Any], **fields: Any
) -> dict[str, Any]:
    """api_create_post that must succeed: the new post as the API returned it."""
    response = await api_create_post(client, author, **fields)
    assert response.status_code == 201, response.text
    post: dict[str, Any] = response.json()
    return post


# Set while a StatementCounter block runs, in the context of the task that runs it: the
# request the test sends inherits it (httpx's ASGI transport runs the app in that task; tasks
# it starts copy the context; SQLAlchemy's greenlets take their caller's). The background
# loops (mail outbox, newsletter, post watcher, site settings, ...) were started with the
# app, in contexts of their own, so a pass that happens to run meanwhile is not counted.
_COUNTING: ContextVar[bool] = ContextVar("counting_statements", default=False)


class StatementCounter:
    """Counts the SQL statements the app sends while the block runs: on both roads of
    fastblog.db, its SQLAlchemy engine and its compiled statements. `background`: the
    background loops' statements too (what a database's query log would show)."""

    def __init__(self, database: Database, *, background: bool = False) -> None:
        self.engine = database.engine
        self.direct = database.runner
        self.background = background
        self.statements: list[str] = []

    @contextmanager
    def __call__(self) -> Iterator[list[str]]:
        self.statements = []

        def count(statement: str) -> None:
            if self.background or _COUNTING.get():
                self.statements.append(statement)

        def before_cursor_execute(*args: Any) -> None:
            count(args[2])

        target = self.engine.sync_engine
        event.listen(target, "before_cursor_execute", before_cursor_execute)
        self.direct.listeners.append(count)
        counting = _COUNTING.set(True)
        try:
            yield self.statements
        finally:
            _COUNTING.reset(counting)
            event.remove(target, "before_cursor_execute", before_cursor_execute)
            self.direct.listeners.remove(count)


async def due_now(database: Database, post_ids: list[int]) -> None:
    """The scheduled posts' time comes (moved a second into the past, rather than waited for),
    for the post watcher's next pass to announce them (fastblog.posts.visibility)."""
    async with database.transaction() as session:
        await session.execute(
            update(Post)
            .where(Post.id.in_(post_ids))
            .values(published_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        await session.commit()


async def announced(database: Database, post_id: int) -> bool:
    """The post's becoming visible has been announced (fastblog.posts.visibility)."""
    async with database.session() as session:
        post = await session.get(Post, post_id)
    return post is not None and not post.announce_pending


def after_announcing(statements: list[str]) -> list[str]:
    """The statements sent after the one that announced a post (fastblog.posts.visibility)."""
    marks = [n for n, sql in enumerate(statements) if "SET announce_pending" in sql]
    assert marks, "no post was announced"
    return statements[marks[0] + 1 :]
