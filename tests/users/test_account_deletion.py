"""Deleting your account from the account page: the password confirms it, CSRF protects it."""

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from fastblog.posts.models import Post
from tests.accounts import browser, browser_login, read_form, submit
from tests.factories import PASSWORD, make_posts, make_user

pytestmark = pytest.mark.anyio


@pytest.fixture
async def user(session: AsyncSession) -> User:
    user = await make_user(session, username="nora", email="nora@example.com")
    await make_posts(session, user, 2)
    return user


async def counts(session: AsyncSession, user: User) -> tuple[int, int]:
    session.expunge_all()
    users = await session.scalar(select(func.count()).select_from(User).where(User.id == user.id))
    posts = await session.scalar(
        select(func.count()).select_from(Post).where(Post.user_id == user.id)
    )
    return users or 0, posts or 0


async def test_the_account_page_deletes_the_account_and_its_posts(
    client: httpx.AsyncClient, session: AsyncSession, user: User
) -> None:
    await browser_login(client, user)

    response = await submit(client, "/account/delete", {"password": PASSWORD})

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert "Your account and your posts are deleted." in (await client.get("/")).text
    assert await counts(session, user) == (0, 0)
    assert (await client.get("/account")).status_code == 303  # logged out
    login = await submit(client, "/login", {"email": user.email, "password": PASSWORD})
    assert login.status_code == 401


async def test_a_wrong_password_deletes_nothing(
    client: httpx.AsyncClient, session: AsyncSession, user: User
) -> None:
    await browser_login(client, user)

    response = await submit(client, "/account/delete", {"password": "not my password"})

    assert response.status_code == 400
    assert read_form(response.text).errors == {"password": "That is not your password."}
    assert await counts(session, user) == (1, 2)
    assert (await client.get("/account")).status_code == 200


async def test_deleting_needs_the_csrf_token_and_a_login(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, user: User
) -> None:
    await browser_login(client, user)
    forged = await client.post("/account/delete", data={"password": PASSWORD})
    async with browser(app) as stranger:
        anonymous = await submit(stranger, "/account/delete", {"password": PASSWORD})

    assert forged.status_code == 403
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login?next=/account/delete"
    assert await counts(session, user) == (1, 2)
