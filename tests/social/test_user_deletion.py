"""Deleting a user removes their likes and follows and fixes every count they touched."""

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.accounts import bearer
from tests.asgi import resources_of
from tests.factories import make_posts, make_user
from tests.social.helpers import drifted_counts

pytestmark = pytest.mark.anyio


async def test_deleting_a_user_fixes_every_count(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    leaving, author, other, fan = [
        await make_user(session, username=name) for name in ("leaving", "author", "other", "fan")
    ]
    (authors_post,) = await make_posts(session, author, 1)
    (leavers_post,) = await make_posts(session, leaving, 1)
    as_leaving, as_fan = bearer(app, leaving), bearer(app, fan)
    for post_id, headers in (
        (authors_post.id, as_leaving),
        (authors_post.id, as_fan),
        (leavers_post.id, as_fan),
    ):
        assert (await client.post(f"/api/posts/{post_id}/like", headers=headers)).is_success
    for followee, headers in (
        (author, as_leaving),
        (other, as_leaving),
        (leaving, as_fan),
        (author, as_fan),
    ):
        assert (await client.post(f"/api/users/{followee.id}/follow", headers=headers)).is_success

    deleted = await client.delete(f"/api/users/{leaving.id}", headers=as_leaving)

    assert deleted.status_code == 204
    post = (await client.get(f"/api/posts/{authors_post.id}", headers=as_fan)).json()
    assert (post["likes"], post["liked"]) == (1, True)
    profiles = {
        user.username: (await client.get(f"/api/users/{user.id}")).json()
        for user in (author, other, fan)
    }
    assert {name: (p["followers"], p["following"]) for name, p in profiles.items()} == {
        "author": (1, 0),
        "other": (0, 0),
        "fan": (0, 1),
    }
    feed = (await client.get("/api/feed", headers=as_fan)).json()["posts"]
    assert [post["author"]["username"] for post in feed] == ["author"]
    async with resources_of(app).database.engine.connect() as connection:
        assert await drifted_counts(connection) == {}
