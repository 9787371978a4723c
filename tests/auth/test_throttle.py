"""Login throttling: too many failures for an account or from an address → 429 + Retry-After."""

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import redis.asyncio as aioredis
from fastapi import FastAPI

from fastblog.accounts.models import User
from tests.accounts import browser, csrf_token, read_form
from tests.asgi import resources_of
from tests.auth.conftest import AppFactory
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.anyio

WRONG = "not the password"


async def token(client: httpx.AsyncClient, identifier: str, password: str) -> httpx.Response:
    return await client.post(
        "/api/users/token", data={"username": identifier, "password": password}
    )


def assert_throttled(response: httpx.Response, window: int) -> None:
    assert response.status_code == 429, response.text
    assert 1 <= int(response.headers["retry-after"]) <= window


async def new_user(app: FastAPI, **overrides: str) -> User:
    async with resources_of(app).database.session() as session:
        return await make_user(session, **overrides)


async def test_failures_for_one_account_are_throttled(make_app: AppFactory) -> None:
    app = await make_app(login_failures_per_account=3, login_window_seconds=600)
    user = await new_user(app, username="leo", email="leo@example.com")
    async with browser(app) as client:
        # The same account, however it is named.
        for identifier in ("leo@example.com", "LEO", "Leo@Example.com"):
            assert (await token(client, identifier, WRONG)).status_code == 401

        for password in (WRONG, PASSWORD):  # even the right password now waits
            assert_throttled(await token(client, "leo", password), 600)
            assert_throttled(await token(client, user.email, password), 600)
        assert (await token(client, "someone@example.com", WRONG)).status_code == 401


async def test_a_success_resets_the_account_counter(make_app: AppFactory) -> None:
    app = await make_app(login_failures_per_account=3)
    user = await new_user(app)
    async with browser(app) as client:
        for _ in range(2):
            assert (await token(client, user.email, WRONG)).status_code == 401
        assert (await token(client, user.email, PASSWORD)).status_code == 200

        for _ in range(2):
            assert (await token(client, user.email, WRONG)).status_code == 401
        assert (await token(client, user.email, PASSWORD)).status_code == 200


async def test_failures_from_one_address_over_many_accounts_are_throttled(
    make_app: AppFactory,
) -> None:
    app = await make_app(login_failures_per_account=10, login_failures_per_address=3)
    users = [await new_user(app) for _ in range(4)]
    async with browser(app, "203.0.113.7") as attacker, browser(app, "198.51.100.2") as bystander:
        for user in users[:3]:
            assert (await token(attacker, user.email, WRONG)).status_code == 401
        assert_throttled(await token(attacker, users[3].email, PASSWORD), 900)
        assert_throttled(await token(attacker, "unknown@example.com", WRONG), 900)

        assert (await token(bystander, users[3].email, PASSWORD)).status_code == 200


async def test_the_login_form_is_throttled_too(make_app: AppFactory) -> None:
    app = await make_app(login_failures_per_account=2)
    user = await new_user(app)
    async with browser(app) as client:
        csrf = await csrf_token(client)
        form = {"email": user.email, "password": WRONG, "csrf_token": csrf}
        for _ in range(2):
            assert (await client.post("/login", data=form)).status_code == 401

        response = await client.post("/login", data={**form, "password": PASSWORD})

        assert_throttled(response, 900)
        assert "Too many failed attempts." in response.text
        assert read_form(response.text).values["email"] == user.email
        assert (await client.get("/account")).status_code == 303  # not logged in


@pytest.fixture
async def redis_keys(redis_url: str) -> AsyncIterator[list[str]]:
    """Keys the test will create; deleted afterwards (nothing else in the database is touched)."""
    keys: list[str] = []
    yield keys
    if keys:
        connection = aioredis.Redis.from_url(redis_url)
        await connection.delete(*keys)
        await connection.aclose()


async def test_with_redis_two_app_instances_share_the_limit(
    make_app: AppFactory, redis_url: str, redis_keys: list[str]
) -> None:
    settings = {"redis_url": redis_url, "login_failures_per_account": 3, "login_window_seconds": 60}
    worker_1 = await make_app(**settings)
    worker_2 = await make_app(**settings)
    # Names of this run only, so runs sharing the Redis server never see each other's counts.
    email = f"{uuid.uuid4().hex}@example.com"
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.9"
    redis_keys += [f"fastblog:login:account:{email}", f"fastblog:login:address:{address}"]
    await new_user(worker_1, email=email)
    async with browser(worker_1, address) as one, browser(worker_2, address) as two:
        assert (await token(one, email, WRONG)).status_code == 401
        assert (await token(two, email, WRONG)).status_code == 401
        assert (await token(one, email, WRONG)).status_code == 401

        assert_throttled(await token(two, email, PASSWORD), 60)
        assert_throttled(await token(one, email, PASSWORD), 60)
