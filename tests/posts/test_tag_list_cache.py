"""GET /api/tags is kept by each process (fastblog.posts.tag_list_cache): it must still be
right at once after every kind of change, whichever app (process, host) made it, and when a
scheduled post's time comes with no write at all."""

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.db import utcnow
from fastblog.posts.models import Post
from tests.asgi import asgi_transport, resources_of
from tests.auth.conftest import AppFactory
from tests.factories import login, make_user

pytestmark = pytest.mark.anyio


async def tag_counts(client: httpx.AsyncClient, **params: Any) -> dict[str, int]:
    """GET /api/tags as {name: posts}, in the order given."""
    response = await client.get("/api/tags", params=params)
    assert response.status_code == 200, response.text
    return {tag["name"]: tag["posts"] for tag in response.json()["tags"]}


class Author:
    """An author's writes through the API."""

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers

    async def send(self, method: str, url: str, **body: Any) -> dict[str, Any]:
        response = await self.client.request(method, url, json=body or None, headers=self.headers)
        assert response.status_code in {200, 201, 204}, response.text
        return response.json() if response.content else {}

    async def post(self, *tags: str, **fields: Any) -> int:
        body = {"title": "T", "content": "c", "tags": list(tags), **fields}
        return int((await self.send("POST", "/api/posts", **body))["id"])


async def move_published_at(database_app: FastAPI, post_id: int, seconds: float) -> None:
    """The post's date moved `seconds` from now, in the database, as an operator (or a test
    of the newsletter's due posts) would: no API, no other column touched."""
    async with resources_of(database_app).database.transaction() as session:
        await session.execute(
            update(Post)
            .where(Post.id == post_id)
            .values(published_at=utcnow() + timedelta(seconds=seconds))
        )
        await session.commit()


async def test_the_kept_list_follows_each_kind_of_change_at_once(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session)
    author = Author(client, await login(client, user))

    assert await tag_counts(client) == {}
    first = await author.post("python", "sql")
    assert await tag_counts(client) == {"python": 1, "sql": 1}
    assert await tag_counts(client, limit=1) == {"python": 1}
    # A post published with a tag no post had.
    second = await author.post("python", "brand-new")
    assert await tag_counts(client) == {"python": 2, "brand-new": 1, "sql": 1}
    assert await tag_counts(client, limit=1) == {"python": 2}
    # A post's tags edited.
    await author.send("PATCH", f"/api/posts/{first}", tags=["sql", "async"])
    assert await tag_counts(client) == {"async": 1, "brand-new": 1, "python": 1, "sql": 1}
    # Unpublished, then published again.
    await author.send("PATCH", f"/api/posts/{second}", status="draft")
    assert await tag_counts(client) == {"async": 1, "sql": 1}
    await author.send("PATCH", f"/api/posts/{second}", status="published")
    assert await tag_counts(client) == {"async": 1, "brand-new": 1, "python": 1, "sql": 1}
    # A tag's only post deleted.
    await author.send("DELETE", f"/api/posts/{first}")
    assert await tag_counts(client) == {"brand-new": 1, "python": 1}
    assert await tag_counts(client, limit=1) == {"brand-new": 1}
    # The author's account deleted, their posts with it.
    await author.send("DELETE", f"/api/users/{user.id}")
    assert await tag_counts(client) == {}
    assert await tag_counts(client, limit=1) == {}


async def test_a_scheduled_post_moved_into_the_past_or_future_counts_at_once(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """A change of a post's date touches no counter, only post_tags' copy of the date: the
    version moves all the same (migration 0029)."""
    author = Author(client, await login(client, await make_user(session)))
    later = (utcnow() + timedelta(days=1)).isoformat()
    post = await author.post("later", published_at=later)
    assert await tag_counts(client) == {}

    await move_published_at(app, post, -1)  # its time has come
    assert await tag_counts(client) == {"later": 1}
    await move_published_at(app, post, 3600)  # taken back to the future
    assert await tag_counts(client) == {}


async def test_a_scheduled_posts_tag_counts_when_its_time_comes(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """No write happens when a scheduled post's time comes: the kept list ends then. Here
    the post is first scheduled for tomorrow (the list kept until then), then brought
    forward to in a few seconds, which must shorten the kept list's life too."""
    author = Author(client, await login(client, await make_user(session)))
    await author.post("now")
    tomorrow = (utcnow() + timedelta(days=1)).isoformat()
    post = await author.post("soon", published_at=tomorrow)
    assert await tag_counts(client) == {"now": 1}

    await move_published_at(app, post, 2.5)
    due = utcnow() + timedelta(seconds=2.5)
    assert await tag_counts(client) == {"now": 1}  # kept again, until the post is due
    assert await tag_counts(client) == {"now": 1}
    await asyncio.sleep((due - utcnow()).total_seconds() + 0.1)
    assert await tag_counts(client) == {"now": 1, "soon": 1}


async def test_a_write_through_another_app_shows_at_once(make_app: AppFactory) -> None:
    """Two processes (or hosts) on one database, each keeping its own list: what one
    writes, the other's next request shows."""
    reader_app, writer_app = await make_app(), await make_app()
    async with resources_of(writer_app).database.session() as session:
        user = await make_user(session)
    async with (
        httpx.AsyncClient(
            transport=asgi_transport(reader_app), base_url="http://testserver"
        ) as reader,
        httpx.AsyncClient(
            transport=asgi_transport(writer_app), base_url="http://testserver"
        ) as writer,
    ):
        author = Author(writer, await login(writer, user))
        assert await tag_counts(reader) == {}
        post = await author.post("python")
        assert await tag_counts(reader) == {"python": 1}
        assert await tag_counts(writer) == {"python": 1}
        await author.send("PATCH", f"/api/posts/{post}", tags=["sql"])
        assert await tag_counts(reader) == {"sql": 1}
        await author.send("DELETE", f"/api/posts/{post}")
        assert await tag_counts(reader) == {}
