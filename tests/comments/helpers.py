"""Builders for the comment tests, and a reader of the HTML a comment becomes."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from fastblog.comments.markdown import render_comment
from fastblog.comments.models import APPROVED, Comment
from fastblog.posts.models import Post
from tests.factories import login

START = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)


async def make_comments(
    session: AsyncSession,
    post: Post,
    author: User,
    count: int,
    *,
    start: datetime = START,
    status: str = APPROVED,
) -> list[Comment]:
    """`count` comments one second apart, the last one newest (the triggers count the
    approved ones)."""
    comments = [
        Comment(
            post_id=post.id,
            user_id=author.id,
            body=f"Comment {n}",
            body_html=render_comment(f"Comment {n}"),
            created_at=start + timedelta(seconds=n),
            status=status,
        )
        for n in range(1, count + 1)
    ]
    session.add_all(comments)
    await session.commit()
    return comments


async def api_comment(
    client: httpx.AsyncClient, author: User | None, post_id: int, body: Any = "A comment"
) -> httpx.Response:
    headers = await login(client, author) if author else {}
    return await client.post(f"/api/posts/{post_id}/comments", json={"body": body}, headers=headers)


async def stored_and_recounted(session: AsyncSession) -> tuple[dict[int, int], dict[int, int]]:
    """Every post's stored comment count, and the same counted from the rows (approved
    comments only: waiting ones count nowhere)."""
    await session.commit()  # a fresh snapshot (SQLite keeps a read transaction's)
    stored = {row[0]: row[1] for row in await session.execute(select(Post.id, Post.comments))}
    by_post = (
        select(Comment.post_id, func.count())
        .where(Comment.status == APPROVED)
        .group_by(Comment.post_id)
    )
    counted = {row[0]: row[1] for row in await session.execute(by_post)}
    return stored, {post_id: counted.get(post_id, 0) for post_id in stored}


@dataclass
class Markup:
    """The elements of an HTML fragment, as a browser's parser sees them."""

    tags: list[str] = field(default_factory=list)
    attributes: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    text: str = ""

    def hrefs(self) -> list[str]:
        return [attrs["href"] for tag, attrs in self.attributes if tag == "a" and "href" in attrs]


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.markup = Markup()
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.markup.tags.append(tag)
        self.markup.attributes.append((tag, {name: value or "" for name, value in attrs}))

    def handle_data(self, data: str) -> None:
        self._text.append(data)


def parse(html: str) -> Markup:
    parser = _Parser()
    parser.feed(html)
    parser.close()
    parser.markup.text = "".join(parser._text)
    return parser.markup
