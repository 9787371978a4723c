"""Who may change an account: only its owner, through the API and through /account."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from tests.accounts import bearer, browser_login, is_login_redirect, read_form, submit
from tests.factories import make_posts, make_user

pytestmark = pytest.mark.anyio

API_WRITES: dict[str, tuple[str, dict[str, Any] | None, int]] = {
    "patch": ("PATCH", {"username": "renamed", "email": "renamed@example.com"}, 200),
    "delete": ("DELETE", None, 204),
}


@pytest.fixture
async def owner(session: AsyncSession) -> User:
    return await make_user(session, username="owner", email="owner@example.com")


@pytest.fixture
async def other(session: AsyncSession) -> User:
    return await make_user(session, username="other")


async def profile(client: httpx.AsyncClient, user_id: int) -> dict[str, Any] | None:
    response = await client.get(f"/api/users/{user_id}")
    if response.status_code == 404:
        return None
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("write", API_WRITES)
async def test_api_anonymous_account_writes_are_401(
    client: httpx.AsyncClient, owner: User, write: str
) -> None:
    method, body, _ = API_WRITES[write]

    response = await client.request(method, f"/api/users/{owner.id}", json=body)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert (await profile(client, owner.id) or {}).get("username") == "owner"


@pytest.mark.parametrize("write", API_WRITES)
async def test_api_writes_to_another_account_are_403(
    app: FastAPI, client: httpx.AsyncClient, owner: User, other: User, write: str
) -> None:
    method, body, _ = API_WRITES[write]

    response = await client.request(
        method, f"/api/users/{owner.id}", json=body, headers=bearer(app, other)
    )

    assert response.status_code == 403
    assert response.json() == {"detail": "You can only change your own account"}
    assert (await profile(client, owner.id) or {}).get("username") == "owner"


async def test_api_owner_changes_their_account(
    app: FastAPI, client: httpx.AsyncClient, owner: User
) -> None:
    method, body, _ = API_WRITES["patch"]
    headers = bearer(app, owner)

    response = await client.request(method, f"/api/users/{owner.id}", json=body, headers=headers)

    assert response.status_code == 200, response.text
    assert response.json()["username"] == "renamed"
    assert response.json()["email"] == "renamed@example.com"
    me = await client.get("/api/users/me", headers=headers)
    assert me.json()["email"] == "renamed@example.com"


async def test_api_owner_deletes_their_account_and_posts(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, owner: User, other: User
) -> None:
    await make_posts(session, owner, 2)
    await make_posts(session, other, 1)

    response = await client.delete(f"/api/users/{owner.id}", headers=bearer(app, owner))

    assert response.status_code == 204
    assert await profile(client, owner.id) is None
    listing = (await client.get("/api/posts")).json()
    assert [post["author"]["username"] for post in listing["posts"]] == ["other"]


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/account", None),
        ("/account/profile", {"username": "x", "email": "x@example.com"}),
        ("/account/password", {"current_password": "x", "new_password": "long enough"}),
        ("/account/picture/delete", {}),
    ],
)
async def test_account_pages_send_anonymous_visitors_to_log_in(
    client: httpx.AsyncClient, url: str, data: dict[str, str] | None
) -> None:
    response = await (client.get(url) if data is None else submit(client, url, data))

    assert is_login_redirect(response, url)


async def test_account_profile_form_changes_only_your_own_account(
    app: FastAPI, client: httpx.AsyncClient, owner: User, other: User
) -> None:
    await browser_login(client, owner)

    page = await client.get("/account")
    assert page.status_code == 200
    form = read_form(page.text)
    assert form.values["username"] == "owner"
    assert form.values["email"] == "owner@example.com"

    saved = await submit(
        client, "/account/profile", {"username": "newname", "email": "new@example.com"}
    )

    assert saved.status_code == 303
    assert saved.headers["location"] == "/account"
    after = await client.get("/account")
    assert "Your profile is updated." in after.text
    assert read_form(after.text).values["username"] == "newname"
    assert (await profile(client, owner.id) or {}).get("username") == "newname"
    assert (await profile(client, other.id) or {}).get("username") == "other"


async def test_account_profile_form_keeps_the_input_and_shows_the_error(
    app: FastAPI, client: httpx.AsyncClient, owner: User, other: User
) -> None:
    await browser_login(client, owner)

    taken = await submit(client, "/account/profile", {"username": "other", "email": "o@x.org"})
    invalid = await submit(client, "/account/profile", {"username": "fine", "email": "nope"})

    assert taken.status_code == 400
    assert read_form(taken.text).errors == {"username": "Username already taken"}
    assert read_form(taken.text).values["email"] == "o@x.org"
    assert invalid.status_code == 422
    assert "email" in read_form(invalid.text).errors
    assert read_form(invalid.text).values["username"] == "fine"
    assert (await profile(client, owner.id) or {}).get("username") == "owner"
