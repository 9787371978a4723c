"""Changing your password: through the API, and in the browser (which logs out other browsers)."""

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from tests.accounts import bearer, browser, browser_login, read_form, submit
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.anyio

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
async def user(session: AsyncSession) -> User:
    return await make_user(session, username="ivan", email="ivan@example.com")


async def token_status(client: httpx.AsyncClient, password: str) -> int:
    response = await client.post(
        "/api/users/token", data={"username": "ivan", "password": password}
    )
    return response.status_code


async def test_api_wrong_current_password_is_400_and_nothing_changes(
    app: FastAPI, client: httpx.AsyncClient, user: User
) -> None:
    response = await client.patch(
        "/api/users/me/password",
        json={"current_password": "not my password", "new_password": NEW_PASSWORD},
        headers=bearer(app, user),
    )

    assert response.status_code == 400
    assert response.json() == {"detail": "That is not your current password."}
    assert await token_status(client, PASSWORD) == 200


async def test_api_password_change(app: FastAPI, client: httpx.AsyncClient, user: User) -> None:
    response = await client.patch(
        "/api/users/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=bearer(app, user),
    )

    assert response.status_code == 204
    assert await token_status(client, PASSWORD) == 401
    assert await token_status(client, NEW_PASSWORD) == 200


@pytest.mark.parametrize("new_password", ["Seven!7", "Z" * 129])
async def test_api_new_password_must_be_8_to_128_characters(
    app: FastAPI, client: httpx.AsyncClient, user: User, new_password: str
) -> None:
    response = await client.patch(
        "/api/users/me/password",
        json={"current_password": PASSWORD, "new_password": new_password},
        headers=bearer(app, user),
    )

    assert response.status_code == 422
    assert new_password not in response.text


async def test_api_password_change_needs_a_token(client: httpx.AsyncClient, user: User) -> None:
    response = await client.patch(
        "/api/users/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_browser_password_change_logs_out_the_other_browsers(
    app: FastAPI, user: User, client: httpx.AsyncClient
) -> None:
    async with browser(app) as laptop, browser(app) as phone:
        await browser_login(laptop, user)
        await browser_login(phone, user)
        assert (await phone.get("/account")).status_code == 200

        changed = await submit(
            laptop,
            "/account/password",
            {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        )

        assert changed.status_code == 303
        assert changed.headers["location"] == "/account"
        on_laptop = await laptop.get("/account")
        assert on_laptop.status_code == 200
        assert "Your password is changed." in on_laptop.text
        on_phone = await phone.get("/account")
        assert on_phone.status_code == 303
        assert on_phone.headers["location"] == "/login?next=/account"
        assert 'href="/account"' not in (await phone.get("/")).text
    assert await token_status(client, NEW_PASSWORD) == 200


async def test_browser_wrong_current_password_shows_the_error(
    app: FastAPI, client: httpx.AsyncClient, user: User
) -> None:
    await browser_login(client, user)

    response = await submit(
        client,
        "/account/password",
        {"current_password": "not my password", "new_password": NEW_PASSWORD},
    )

    assert response.status_code == 400
    assert read_form(response.text).errors == {
        "current_password": "That is not your current password."
    }
    assert "not my password" not in response.text
    assert await token_status(client, PASSWORD) == 200
