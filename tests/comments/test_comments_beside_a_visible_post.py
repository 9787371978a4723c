"""A draft or scheduled post shows no comments and takes none, also on a blog where other
posts are out: whether a post is readable is asked of that post, not of the blog."""

from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.db import utcnow
from fastblog.posts.models import DRAFT, Post
from tests.comments.helpers import api_comment
from tests.factories import make_posts, make_user

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("kind", ["draft", "scheduled"])
async def test_a_hidden_post_beside_a_published_one_has_no_comments(
    client: httpx.AsyncClient, session: AsyncSession, kind: str
) -> None:
    author = await make_user(session)
    (published,) = await make_posts(session, author, 1)
    hidden = Post(
        title="Not yet",
        content="Soon.",
        user_id=author.id,
        status=DRAFT if kind == "draft" else "published",
        published_at=None if kind == "draft" else utcnow() + timedelta(days=1),
    )
    session.add(hidden)
    await session.commit()

    listed = await client.get(f"/api/posts/{hidden.id}/comments")
    created = await api_comment(client, author, hidden.id)

    assert (listed.status_code, created.status_code) == (404, 404)
    assert (await client.get(f"/api/posts/{published.id}/comments")).status_code == 200
