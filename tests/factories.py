"""Test data builders and a SQL statement counter."""

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import httpx
from pwdlib import PasswordHash
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from fastblog.posts.models import Post
from fastblog.users.models import User

_sequence = itertools.count(1)

PASSWORD = "correct horse battery staple"


@lru_cache
def password_hash() -> str:
    """Hashed once per run: argon2 is slow on purpose, and every factory user shares it."""
    return PasswordHash.recommended().hash(PASSWORD)


async def make_user(session: AsyncSession, **overrides: Any) -> User:
    n = next(_sequence)
    values: dict[str, Any] = {
        "username": f"user{n}",
        "email": f"user{n}@example.com",
        "password_hash": password_hash(),
    }
    values.update(overrides)
    user = User(**values)
    session.add(user)
    await session.commit()
    return user


async def login(client: httpx.AsyncClient, user: User, password: str = PASSWORD) -> dict[str, str]:
    """Bearer headers for `user`, through the real token endpoint."""
    response = await client.post(
        "/api/users/token", data={"username": user.email, "password": password}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def api_create_post(client: httpx.AsyncClient, author: User, **fields: Any) -> httpx.Response:
    """POST /api/posts as `author`: the one place that knows how posts are authored."""
    body = {"title": "A title", "content": "Some content", **fields}
    return await client.post("/api/posts", json=body, headers=await login(client, author))


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


class StatementCounter:
    """Counts the SQL statements an engine sends while the block runs."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.statements: list[str] = []

    @contextmanager
    def __call__(self) -> Iterator[list[str]]:
        self.statements = []

        def before_cursor_execute(*args: Any) -> None:
            self.statements.append(args[2])

        target = self.engine.sync_engine
        event.listen(target, "before_cursor_execute", before_cursor_execute)
        try:
            yield self.statements
        finally:
            event.remove(target, "before_cursor_execute", before_cursor_execute)
