"""The total of posts comes from trigger-kept counters: it must match a real count through
every way posts appear and disappear."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.posts.models import Post
from tests.factories import api_create_post, login, make_posts, make_user

pytestmark = pytest.mark.anyio


async def listed_total(client: httpx.AsyncClient, url: str = "/api/posts") -> int:
    response = await client.get(url, params={"limit": 1})
    assert response.status_code == 200
    total: int = response.json()["total"]
    return total


async def counted(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(Post)) or 0


async def test_the_total_follows_inserts_and_deletes_of_every_kind(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    alice = await make_user(session)
    bob = await make_user(session)
    assert await listed_total(client) == 0

    await make_posts(session, alice, 25)  # a bulk insert through the ORM
    for n in range(3):  # the API's single-statement insert
        assert (await api_create_post(client, bob, title=f"by bob {n}")).status_code == 201
    assert await listed_total(client) == 28 == await counted(session)

    [first, *_] = (await client.get("/api/posts", params={"limit": 1})).json()["posts"]
    deleted = await client.delete(f"/api/posts/{first['id']}", headers=await login(client, bob))
    assert deleted.status_code == 204
    assert await listed_total(client) == 27 == await counted(session)

    # Deleting a user removes their posts by ON DELETE CASCADE: the counters follow.
    gone = await client.delete(f"/api/users/{alice.id}", headers=await login(client, alice))
    assert gone.status_code == 204
    assert await listed_total(client) == 2 == await counted(session)


async def test_an_empty_page_past_the_end_still_tells_the_total(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_posts(session, await make_user(session), 3)

    response = await client.get("/api/posts", params={"skip": 50, "limit": 10})

    assert response.json()["posts"] == []
    assert response.json()["total"] == 3
    assert response.json()["has_more"] is False


async def test_a_users_total_counts_only_their_posts(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    alice = await make_user(session)
    await make_posts(session, alice, 4)
    await make_posts(session, await make_user(session), 6)

    assert await listed_total(client, f"/api/users/{alice.id}/posts") == 4
    assert await listed_total(client) == 10


async def test_the_total_counts_what_readers_see_through_status_changes(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """The counters count published posts (triggers follow inserts, deletes and status
    changes, one row or many at once); the total also leaves out posts scheduled for later."""
    author = await make_user(session)
    posts = await make_posts(session, author, 6)
    ids = [post.id for post in posts]
    assert await listed_total(client) == 6

    # Many rows in one statement: back to draft, then published again (some in the future).
    await session.execute(
        update(Post).where(Post.id.in_(ids[:4])).values(status="draft", published_at=None)
    )
    await session.commit()
    assert await listed_total(client) == 2
    later = datetime.now(UTC) + timedelta(days=1)
    await session.execute(
        update(Post).where(Post.id.in_(ids[:2])).values(status="published", published_at=later)
    )
    await session.commit()
    assert await listed_total(client) == 2  # scheduled: not yet
    await session.execute(delete(Post).where(Post.id.in_([ids[2], ids[5]])))  # a draft, a post
    await session.commit()

    assert await listed_total(client) == 1
    visible = select(func.count()).select_from(Post).where(Post.published_at <= datetime.now(UTC))
    assert await session.scalar(visible) == 1
