"""Deleting your account from the account page: the password confirms it, CSRF protects it."""

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from fastblog.posts.models import Post
from tests.accounts import bearer, browser, browser_login, read_form, submit
from tests.factories import PASSWORD, make_posts, make_user
from tests.html import read_page

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


async def test_another_browser_of_a_deleted_account_is_logged_out(
    app: FastAPI, client: httpx.AsyncClient, user: User
) -> None:
    """Deleted from the API (or another browser), the account's other sessions end: the next
    page is shown logged out, and a page that needs a login asks for one."""
    await browser_login(client, user)
    deleted = await client.delete(f"/api/users/{user.id}", headers=bearer(app, user))
    assert deleted.status_code == 204

    home = await client.get("/")

    assert home.status_code == 200
    assert 'href="/login"' in home.text
    assert 'href="/account"' not in home.text
    assert (await client.get("/account")).status_code == 303


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


HAND_ON_FIRST = "hand ownership on first"


async def test_the_owner_cannot_delete_their_account_until_ownership_is_handed_on(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, user: User
) -> None:
    owner = await make_user(session, username="olive", email="olive@example.com", role="owner")
    await make_posts(session, owner, 1)
    await browser_login(client, owner)

    account = read_page(await client.get("/account"))
    by_page = await submit(client, "/account/delete", {"password": PASSWORD})
    by_api = await client.delete(f"/api/users/{owner.id}", headers=bearer(app, owner))

    # The page offers no Delete button, says why, and a forged form is refused the same way.
    assert "Delete my account" not in account.text
    assert "You own this site, so your account stays until you hand ownership on" in (account.text)
    assert by_page.status_code == 409
    assert HAND_ON_FIRST in read_page(by_page).text
    assert by_api.status_code == 409
    assert HAND_ON_FIRST in by_api.json()["detail"]
    assert await counts(session, owner) == (1, 1)

    # Once someone else owns the site, the old owner (an admin now) may leave.
    handed = await client.put(
        f"/api/users/{user.id}/role", json={"role": "owner"}, headers=bearer(app, owner)
    )
    assert handed.status_code == 200, handed.text
    assert (
        await client.delete(f"/api/users/{owner.id}", headers=bearer(app, owner))
    ).status_code == 204
    assert await counts(session, owner) == (0, 0)
