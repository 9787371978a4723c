"""A like and an unlike change the post they name, and no other post."""

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.accounts import bearer
from tests.factories import make_posts, make_user

pytestmark = pytest.mark.anyio


async def likes(client: httpx.AsyncClient, post_id: int) -> int:
    response = await client.get(f"/api/posts/{post_id}")
    assert response.status_code == 200, response.text
    count: int = response.json()["likes"]
    return count


async def test_liking_one_post_leaves_the_others_alone(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    reader = await make_user(session)
    liked, other = await make_posts(session, author, 2)
    headers = bearer(app, reader)

    assert (await client.post(f"/api/posts/{liked.id}/like", headers=headers)).status_code == 200
    assert (await likes(client, liked.id), await likes(client, other.id)) == (1, 0)
    assert (await client.post(f"/api/posts/{other.id}/like", headers=headers)).status_code == 200
    assert (await likes(client, liked.id), await likes(client, other.id)) == (1, 1)

    unliked = await client.delete(f"/api/posts/{liked.id}/like", headers=headers)

    assert unliked.json()["likes"] == 0
    assert (await likes(client, liked.id), await likes(client, other.id)) == (0, 1)
