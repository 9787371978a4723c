"""Writing posts through the API and searching them, as a reader would."""

from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import httpx
from sqlalchemy import insert, text

from fastblog.accounts.models import User
from fastblog.db import Database
from fastblog.posts.markdown import render
from fastblog.posts.models import Post
from fastblog.posts.service import new_post_values
from tests.factories import api_create_post, login


async def write(client: httpx.AsyncClient, author: User, **fields: Any) -> dict[str, Any]:
    response = await api_create_post(client, author, **fields)
    assert response.status_code == 201, response.text
    post: dict[str, Any] = response.json()
    return post


async def search(client: httpx.AsyncClient, q: str, **params: Any) -> dict[str, Any]:
    response = await client.get("/api/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def found(client: httpx.AsyncClient, q: str, **params: Any) -> list[int]:
    """The ids a search finds, best first."""
    return [post["id"] for post in (await search(client, q, **params))["posts"]]


async def edit(client: httpx.AsyncClient, author: User, post_id: int, **changes: Any) -> None:
    headers = await login(client, author)
    response = await client.patch(f"/api/posts/{post_id}", json=changes, headers=headers)
    assert response.status_code == 200, response.text


class Markup(HTMLParser):
    """The elements and the text of a snippet, as a browser would read them."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.marked: list[str] = []
        self.text = ""
        self._in_mark = 0
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._in_mark += tag == "mark"

    def handle_endtag(self, tag: str) -> None:
        self._in_mark -= tag == "mark"

    def handle_data(self, data: str) -> None:
        self.text += data
        if self._in_mark:
            self.marked.append(data)


async def posts_at(
    db: Database, user_id: int, first_id: int, count: int, word: str, title: str | None = None
) -> None:
    """`count` posts saying `word` (titled `title` if given), with ids from `first_id` on
    (PostgreSQL's index buckets posts by id: fastblog.search.postgres), the id sequence then
    past the newest."""
    rows = [
        {**row, "id": first_id + n, **({"title": title} if title else {})}
        for n, row in enumerate(post_rows(user_id, count, word))
    ]
    async with db.transaction() as session:
        await session.execute(insert(Post), rows)
        if db.dialect.name == "postgresql":
            await session.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('posts', 'id'), "
                    "(SELECT max(id) FROM posts))"
                )
            )
        await session.commit()


def post_rows(user_id: int, count: int, word: str) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    rows = []
    for n in range(count):
        content = f"Bulk *{word}* number {n}."
        values = new_post_values(
            title=f"Bulk {n}",
            content=content,
            rendered=render(content),
            status="published",
            published_at=None,
            now=now,
        )
        rows.append({**values, "user_id": user_id})
    return rows
