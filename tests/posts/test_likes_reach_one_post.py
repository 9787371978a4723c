"""A like and an unlike change the post they name, the liker's own like only, and nothing on a
post readers cannot see."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.posts.models import Post
from tests.accounts import bearer
from tests.factories import make_posts, make_user

pytestmark = pytest.mark.anyio


async def likes(client: httpx.AsyncClient, post_id: int) -> int:
    response = await client.get(f"/api/posts/{post_id}")
    assert response.status_code == 200, response.text
    count: int = response.json()["likes"]
    return count


async def move_publication(session: AsyncSession, post_id: int, when: datetime | None) -> None:
    """Time moves: the post's moment is in the future again (or back in the past)."""
    await session.execute(update(Post).where(Post.id == post_id).values(published_at=when))
    await session.commit()


async def test_liking_one_post_leaves_the_others_alone(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    reader = await make_user(session)
    liked, other = await make_posts(session, author, 2)
    headers = bearer(app, reader)

    first = await client.post(f"/api/posts/{other.id}/like", headers=headers)
    assert first.json()["likes"] == 1
    assert (await likes(client, liked.id), await likes(client, other.id)) == (0, 1)
    assert (await client.post(f"/api/posts/{liked.id}/like", headers=headers)).status_code == 200
    assert (await likes(client, liked.id), await likes(client, other.id)) == (1, 1)

    unliked = await client.delete(f"/api/posts/{liked.id}/like", headers=headers)

    assert unliked.json()["likes"] == 0
    assert (await likes(client, liked.id), await likes(client, other.id)) == (0, 1)


async def test_unliking_takes_back_only_ones_own_like(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    readers = [await make_user(session) for _ in range(2)]
    (post,) = await make_posts(session, author, 1)
    for reader in readers:
        await client.post(f"/api/posts/{post.id}/like", headers=bearer(app, reader))

    unliked = await client.delete(f"/api/posts/{post.id}/like", headers=bearer(app, readers[0]))

    assert unliked.json()["likes"] == 1
    assert await likes(client, post.id) == 1


async def test_a_post_out_of_sight_cannot_be_unliked_either(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    reader = await make_user(session)
    post, still_shown = await make_posts(session, author, 2)
    headers = bearer(app, reader)
    await client.post(f"/api/posts/{post.id}/like", headers=headers)
    await client.post(f"/api/posts/{still_shown.id}/like", headers=headers)
    published_at = post.published_at
    await move_publication(session, post.id, datetime.now(UTC) + timedelta(days=1))

    assert (await client.delete(f"/api/posts/{post.id}/like", headers=headers)).status_code == 404

    await move_publication(session, post.id, published_at)
    assert await likes(client, post.id) == 1  # the 404 changed nothing
    assert await likes(client, still_shown.id) == 1
