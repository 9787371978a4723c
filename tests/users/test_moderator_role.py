"""Granting the moderator role reaches the one account with that email, and no other."""

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.queries import set_moderator
from tests.accounts import bearer
from tests.asgi import resources_of
from tests.comments.helpers import make_comments
from tests.factories import make_posts, make_user

pytestmark = pytest.mark.anyio


async def test_a_grant_makes_one_moderator_only(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session, username="author")
    mod = await make_user(session, username="mod", email="mod@example.com")
    bystander = await make_user(session, username="bystander", email="by@example.com")
    (post,) = await make_posts(session, author, 1)
    first, second = await make_comments(session, post, author, 2)
    path = f"/api/posts/{post.id}/comments/"

    granted = await set_moderator(
        resources_of(app).database, email="mod@example.com", is_moderator=True
    )

    assert granted is not None
    assert (granted["id"], granted["username"]) == (mod.id, "mod")
    refused = await client.delete(path + str(first.id), headers=bearer(app, bystander))
    assert refused.status_code == 403
    deleted = await client.delete(path + str(second.id), headers=bearer(app, mod))
    assert deleted.status_code == 204
