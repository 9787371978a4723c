"""Tokens die with the password: a change, a reset or "log out everywhere" ends every token
issued before it, on every route; a deleted account's token is 401 everywhere too."""

from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.auth_service import create_reset_token
from fastblog.accounts.models import User
from fastblog.posts.models import Post
from tests.accounts import browser, browser_login, image_bytes, submit
from tests.asgi import resources_of
from tests.factories import PASSWORD, login_through_endpoint, make_user

pytestmark = pytest.mark.anyio

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
async def user(session: AsyncSession) -> User:
    return await make_user(session, username="ivan", email="ivan@example.com")


@pytest.fixture
async def post(session: AsyncSession, user: User) -> Post:
    post = Post(title="Mine", content="Body", user_id=user.id)
    session.add(post)
    await session.commit()
    return post


def authenticated_requests(app: FastAPI, user_id: int, post_id: int) -> list[dict[str, Any]]:
    """One request for every operation of the API that takes a bearer token."""
    requests = []
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            if "security" not in operation:
                continue
            url = path.replace("{user_id}", str(user_id)).replace("{post_id}", str(post_id))
            url = url.replace("{comment_id}", "1")
            request: dict[str, Any] = {"method": method.upper(), "url": url}
            if "requestBody" in operation:
                content = operation["requestBody"]["content"]
                if "multipart/form-data" in content:
                    request["files"] = {"file": ("p.png", image_bytes(), "image/png")}
                else:
                    request["json"] = {
                        "title": "t",
                        "content": "c",
                        "body": "b",  # a comment
                        "username": "someone",
                        "current_password": PASSWORD,
                        "new_password": NEW_PASSWORD,
                    }
            requests.append(request)
    assert len(requests) >= 9, requests  # posts: 4; users: me, password, picture x2, update, delete
    return requests


def refusal(request: dict[str, Any]) -> str:
    """What a refused token is told: the routes that write or moderate a comment check the
    account in their own statement and say why in words of their own."""
    if "/comments" in request["url"] and request["method"] != "GET":
        return "Your account no longer exists, or you logged out everywhere"
    return "Invalid or expired token"


async def assert_refused_everywhere(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], user_id: int, post_id: int
) -> None:
    for request in authenticated_requests(app, user_id, post_id):
        response = await client.request(**request, headers=headers)
        assert response.status_code == 401, (request["method"], request["url"], response.text)
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json() == {"detail": refusal(request)}, request["url"]


async def test_a_token_from_before_a_password_change_is_refused_everywhere(
    app: FastAPI, client: httpx.AsyncClient, user: User, post: Post
) -> None:
    old = await login_through_endpoint(client, "ivan")
    other_device = await login_through_endpoint(client, "ivan")

    changed = await client.patch(
        "/api/users/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=old,
    )
    assert changed.status_code == 204

    await assert_refused_everywhere(app, client, other_device, user.id, post.id)
    assert (await client.get("/api/users/me", headers=old)).status_code == 401
    fresh = await login_through_endpoint(client, "ivan", NEW_PASSWORD)
    me = await client.get("/api/users/me", headers=fresh)
    assert me.status_code == 200
    assert me.json()["username"] == "ivan"
    created = await client.post("/api/posts", json={"title": "t", "content": "c"}, headers=fresh)
    assert created.status_code == 201


async def test_a_token_from_before_a_reset_is_refused(
    app: FastAPI, client: httpx.AsyncClient, user: User, post: Post
) -> None:
    old = await login_through_endpoint(client, "ivan")
    async with resources_of(app).database.transaction() as session:
        link, _ = await create_reset_token(session, user=user, lifetime=timedelta(minutes=5))
        await session.commit()
    reset = await client.post(
        "/api/users/reset-password", json={"token": link, "new_password": NEW_PASSWORD}
    )
    assert reset.status_code == 200

    await assert_refused_everywhere(app, client, old, user.id, post.id)
    fresh = await login_through_endpoint(client, "ivan", NEW_PASSWORD)
    assert (await client.get("/api/users/me", headers=fresh)).status_code == 200


async def test_a_browser_password_change_ends_the_tokens(
    app: FastAPI, client: httpx.AsyncClient, user: User
) -> None:
    old = await login_through_endpoint(client, "ivan")
    async with browser(app) as page:
        await browser_login(page, user)
        changed = await submit(
            page,
            "/account/password",
            {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        )
        assert changed.status_code == 303
        assert (await page.get("/account")).status_code == 200  # this browser stays in

    assert (await client.get("/api/users/me", headers=old)).status_code == 401


async def test_log_out_everywhere_ends_every_session_and_token(
    app: FastAPI, client: httpx.AsyncClient, user: User, post: Post
) -> None:
    token = await login_through_endpoint(client, "ivan")
    async with browser(app) as laptop, browser(app, "192.0.2.9") as phone:
        await browser_login(laptop, user)
        await browser_login(phone, user)

        done = await submit(laptop, "/account/logout-everywhere")

        assert done.status_code == 303
        assert done.headers["location"] == "/login"
        assert "You are logged out everywhere." in (await laptop.get("/login")).text
        for browser_client in (laptop, phone):
            assert (await browser_client.get("/account")).status_code == 303
    await assert_refused_everywhere(app, client, token, user.id, post.id)
    # The password is unchanged: logging in again works.
    assert (
        await client.get("/api/users/me", headers=await login_through_endpoint(client, "ivan"))
    ).status_code == 200


async def test_a_deleted_accounts_token_is_401_on_every_route(
    app: FastAPI, client: httpx.AsyncClient, user: User, session: AsyncSession
) -> None:
    token = await login_through_endpoint(client, "ivan")
    other = await make_user(session)
    post = Post(title="Someone else's", content="Body", user_id=other.id)
    session.add(post)
    await session.commit()
    assert (await client.delete(f"/api/users/{user.id}", headers=token)).status_code == 204

    await assert_refused_everywhere(app, client, token, user.id, post.id)
    await assert_refused_everywhere(app, client, token, other.id, post.id)
