"""Login throttling: a stranger cannot lock the owner out, the wait grows and then ENDS, a login
or a reset clears it, and the 429 says when to come back. Time is a clock the test turns."""

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
import redis.asyncio as aioredis
from fastapi import FastAPI

from fastblog.accounts.auth_service import create_reset_token
from fastblog.accounts.models import User
from tests.accounts import browser, csrf_token, read_form
from tests.asgi import resources_of
from tests.auth.conftest import AppFactory, outbox_emptied
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.anyio

WRONG = "not the password"
OWNER, STRANGER, ELSEWHERE = "198.51.100.2", "203.0.113.7", "192.0.2.44"


class Clock:
    """Seconds since the epoch, moved only by the test."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


async def throttled_app(make_app: AppFactory, clock: Clock, **settings: object) -> FastAPI:
    app = await make_app(**settings)
    resources = resources_of(app)
    resources.login_throttle.clock = clock
    resources.mail_throttle.clock = clock
    return app


async def token(client: httpx.AsyncClient, identifier: str, password: str) -> httpx.Response:
    return await client.post(
        "/api/users/token", data={"username": identifier, "password": password}
    )


def assert_throttled(response: httpx.Response, seconds: int, words: str) -> None:
    """429, Retry-After is exactly the time left on the test's clock, and the words say it."""
    assert response.status_code == 429, response.text
    assert response.headers["retry-after"] == str(seconds)
    assert f"Try again in {words}." in response.text


async def new_user(app: FastAPI, **overrides: str) -> User:
    async with resources_of(app).database.session() as session:
        return await make_user(session, **overrides)


async def test_a_strangers_guesses_do_not_stop_the_owner(
    make_app: AppFactory, clock: Clock
) -> None:
    app = await throttled_app(make_app, clock)  # the defaults: 5 free failures per address
    user = await new_user(app)
    async with browser(app, STRANGER) as stranger, browser(app, OWNER) as owner:
        for _ in range(5):
            assert (await token(stranger, user.email, WRONG)).status_code == 401
        assert_throttled(await token(stranger, user.email, PASSWORD), 60, "1 minute")

        assert (await token(owner, user.email, PASSWORD)).status_code == 200


async def test_one_account_however_named_is_one_count(make_app: AppFactory, clock: Clock) -> None:
    app = await throttled_app(make_app, clock, login_failures_per_account_and_address=3)
    user = await new_user(app, username="leo", email="leo@example.com")
    async with browser(app) as client:
        for identifier in ("leo@example.com", "LEO", "Leo@Example.com"):
            assert (await token(client, identifier, WRONG)).status_code == 401

        for password in (WRONG, PASSWORD):  # even the right password now waits
            assert_throttled(await token(client, "leo", password), 60, "1 minute")
            assert_throttled(await token(client, user.email, password), 60, "1 minute")
        assert (await token(client, "someone@example.com", WRONG)).status_code == 401


async def test_the_wait_grows_to_its_cap_and_ends(make_app: AppFactory, clock: Clock) -> None:
    app = await throttled_app(
        make_app,
        clock,
        login_failures_per_account_and_address=3,
        login_delay_seconds=60,
        login_max_delay_seconds=240,
    )
    user = await new_user(app)
    async with browser(app) as client:
        for _ in range(3):
            assert (await token(client, user.email, WRONG)).status_code == 401
        assert_throttled(await token(client, user.email, WRONG), 60, "1 minute")
        clock.advance(59.5)
        assert_throttled(await token(client, user.email, PASSWORD), 1, "1 second")

        clock.advance(0.5)
        for wait, words in ((120, "2 minutes"), (240, "4 minutes"), (240, "4 minutes")):
            assert (await token(client, user.email, WRONG)).status_code == 401
            assert_throttled(await token(client, user.email, PASSWORD), wait, words)
            clock.advance(wait - 30)
            assert_throttled(await token(client, user.email, PASSWORD), 30, "30 seconds")
            clock.advance(30)

        assert (await token(client, user.email, PASSWORD)).status_code == 200
        # The login cleared the count: the free failures are free again.
        for _ in range(3):
            assert (await token(client, user.email, WRONG)).status_code == 401


async def test_the_lockout_ends_at_retry_after_exactly(make_app: AppFactory, clock: Clock) -> None:
    app = await throttled_app(
        make_app, clock, login_failures_per_account_and_address=2, login_delay_seconds=300
    )
    user = await new_user(app)
    async with browser(app) as client:
        for _ in range(2):
            assert (await token(client, user.email, WRONG)).status_code == 401
        response = await token(client, user.email, PASSWORD)
        assert_throttled(response, 300, "5 minutes")

        clock.advance(299.9)
        assert_throttled(await token(client, user.email, PASSWORD), 1, "1 second")
        clock.advance(0.1)
        assert (await token(client, user.email, PASSWORD)).status_code == 200


async def test_counts_are_forgotten_after_a_quiet_day(make_app: AppFactory, clock: Clock) -> None:
    app = await throttled_app(
        make_app,
        clock,
        login_failures_per_account_and_address=2,
        login_delay_seconds=60,
        login_forget_seconds=3600,
    )
    user = await new_user(app)
    async with browser(app) as client:
        for _ in range(2):
            assert (await token(client, user.email, WRONG)).status_code == 401
        clock.advance(60)
        # The wait is over but the count is not forgotten: one more failure waits again.
        assert (await token(client, user.email, WRONG)).status_code == 401
        assert_throttled(await token(client, user.email, WRONG), 120, "2 minutes")

        clock.advance(3601)
        assert (await token(client, user.email, WRONG)).status_code == 401
        assert (await token(client, user.email, WRONG)).status_code == 401  # free again


async def test_failures_from_one_address_over_many_accounts_are_throttled(
    make_app: AppFactory, clock: Clock
) -> None:
    app = await throttled_app(make_app, clock, login_failures_per_address=3)
    users = [await new_user(app) for _ in range(4)]
    async with browser(app, STRANGER) as attacker, browser(app, OWNER) as bystander:
        for user in users[:3]:
            assert (await token(attacker, user.email, WRONG)).status_code == 401
        assert_throttled(await token(attacker, users[3].email, PASSWORD), 60, "1 minute")
        assert_throttled(await token(attacker, "unknown@example.com", WRONG), 60, "1 minute")

        assert (await token(bystander, users[3].email, PASSWORD)).status_code == 200
        clock.advance(60)
        assert (await token(attacker, users[3].email, PASSWORD)).status_code == 200


async def test_the_account_ceiling_stops_guesses_from_many_addresses(
    make_app: AppFactory, clock: Clock
) -> None:
    app = await throttled_app(make_app, clock, login_failures_per_account=4)
    user = await new_user(app)
    for n in range(4):
        async with browser(app, f"10.0.0.{n + 1}") as bot:
            assert (await token(bot, user.email, WRONG)).status_code == 401
    async with browser(app, OWNER) as owner:
        assert_throttled(await token(owner, user.email, PASSWORD), 60, "1 minute")
        clock.advance(60)
        assert (await token(owner, user.email, PASSWORD)).status_code == 200


async def test_a_success_clears_the_accounts_counts(make_app: AppFactory, clock: Clock) -> None:
    app = await throttled_app(make_app, clock, login_failures_per_account_and_address=3)
    user = await new_user(app)
    async with browser(app) as client:
        for _ in range(2):
            for _ in range(2):
                assert (await token(client, user.email, WRONG)).status_code == 401
            assert (await token(client, user.email, PASSWORD)).status_code == 200


async def test_a_password_reset_clears_the_lockout(make_app: AppFactory, clock: Clock) -> None:
    app = await throttled_app(make_app, clock, login_failures_per_account=3)
    user = await new_user(app)
    for n in range(3):  # a lockout of the account from everywhere
        async with browser(app, f"10.0.1.{n + 1}") as bot:
            assert (await token(bot, user.email, WRONG)).status_code == 401
    async with resources_of(app).database.transaction() as session:
        link, _ = await create_reset_token(session, user=user, lifetime=timedelta(minutes=5))
        await session.commit()
    async with browser(app, OWNER) as owner:
        assert (await token(owner, user.email, PASSWORD)).status_code == 429
        new_password = "the password after the reset"
        reset = await owner.post(
            "/api/users/reset-password", json={"token": link, "new_password": new_password}
        )
        assert reset.status_code == 200, reset.text

        assert (await token(owner, user.email, new_password)).status_code == 200


async def test_the_login_form_says_when_to_try_again(make_app: AppFactory, clock: Clock) -> None:
    app = await throttled_app(make_app, clock, login_failures_per_account_and_address=2)
    user = await new_user(app)
    async with browser(app) as client:
        csrf = await csrf_token(client)
        form = {"email": user.email, "password": WRONG, "csrf_token": csrf}
        for _ in range(2):
            assert (await client.post("/login", data=form)).status_code == 401
        clock.advance(20)  # the wait counts from the last failure

        response = await client.post("/login", data={**form, "password": PASSWORD})

        assert_throttled(response, 40, "40 seconds")
        assert "Too many failed logins." in response.text
        assert read_form(response.text).values["email"] == user.email
        assert (await client.get("/account")).status_code == 303  # not logged in


async def test_reset_mails_are_limited_per_inbox_and_per_address(
    make_app: AppFactory, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    app = await throttled_app(
        make_app, clock, reset_mails_per_inbox_per_hour=2, reset_requests_per_address_per_hour=4
    )
    await new_user(app, email="kim@example.com")
    await new_user(app, email="lee@example.com")

    async def mails_to(address: str) -> int:
        await outbox_emptied(app)
        return sum(address in r.getMessage() for r in caplog.records if r.name == "fastblog.mail")

    async with browser(app, OWNER) as client, browser(app, ELSEWHERE) as other:
        for _ in range(3):
            response = await client.post(
                "/api/users/forgot-password", json={"email": "KIM@example.com"}
            )
            assert response.status_code == 202  # the same answer, mailed or not
        assert await mails_to("kim@example.com") == 2
        # The address has made 3 requests of its 4: one more goes out, then none.
        for _ in range(2):
            response = await client.post(
                "/api/users/forgot-password", json={"email": "lee@example.com"}
            )
            assert response.status_code == 202
        assert await mails_to("lee@example.com") == 1
        assert (
            await other.post("/api/users/forgot-password", json={"email": "lee@example.com"})
        ).status_code == 202
        assert await mails_to("lee@example.com") == 2

        clock.advance(3600)  # a new hour
        await client.post("/api/users/forgot-password", json={"email": "kim@example.com"})
        assert await mails_to("kim@example.com") == 3


async def test_the_throttles_the_app_makes_run_on_the_wall_clock(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """Every other test here turns a clock of its own; this one keeps the app's."""
    app = await make_app(
        login_failures_per_account_and_address=1,
        login_delay_seconds=600,
        reset_mails_per_inbox_per_hour=1,
    )
    await new_user(app, email="kim@example.com")
    async with browser(app) as client:
        assert (await token(client, "kim@example.com", WRONG)).status_code == 401
        response = await token(client, "kim@example.com", PASSWORD)
        assert response.status_code == 429, response.text
        assert "Try again in 10 minutes." in response.text

        for _ in range(2):
            response = await client.post(
                "/api/users/forgot-password", json={"email": "kim@example.com"}
            )
            assert response.status_code == 202, response.text
    await outbox_emptied(app)
    mails = [r for r in caplog.records if r.name == "fastblog.mail"]
    assert sum("kim@example.com" in r.getMessage() for r in mails) == 1


# -- Redis: the same rules, shared by every worker, with keys that expire -----------------------


@pytest.fixture
async def redis_prefix(redis_url: str) -> AsyncIterator[str]:
    """A key prefix of this test only; its keys are deleted afterwards."""
    prefix = f"fastblog-test:{uuid.uuid4().hex}:"
    yield prefix
    connection = aioredis.Redis.from_url(redis_url)
    keys = [key async for key in connection.scan_iter(match=f"{prefix}*")]
    if keys:
        await connection.delete(*keys)
    await connection.aclose()


async def ttls(redis_url: str, prefix: str) -> dict[str, int]:
    connection = aioredis.Redis.from_url(redis_url)
    try:
        keys = [key async for key in connection.scan_iter(match=f"{prefix}*")]
        return {key.decode(): await connection.ttl(key) for key in keys}
    finally:
        await connection.aclose()


async def test_with_redis_two_workers_share_the_count_and_the_lockout_ends(
    make_app: AppFactory, clock: Clock, redis_url: str, redis_prefix: str
) -> None:
    settings = {
        "redis_url": redis_url,
        "redis_key_prefix": redis_prefix,
        "login_failures_per_account_and_address": 3,
        "login_delay_seconds": 90,
        "login_forget_seconds": 7200,
    }
    worker_1 = await throttled_app(make_app, clock, **settings)
    worker_2 = await throttled_app(make_app, clock, **settings)
    user = await new_user(worker_1)
    async with browser(worker_1, OWNER) as one, browser(worker_2, OWNER) as two:
        assert (await token(one, user.email, WRONG)).status_code == 401
        assert (await token(two, user.email, WRONG)).status_code == 401
        assert (await token(one, user.email, WRONG)).status_code == 401
        assert_throttled(await token(two, user.email, PASSWORD), 90, "2 minutes")

        # Every key carries an expiry, as long as the clock logic remembers a count.
        expiries = await ttls(redis_url, redis_prefix)
        assert len(expiries) == 2, expiries  # the account's hash and the address's key
        assert all(7100 < ttl <= 7200 for ttl in expiries.values()), expiries

        clock.advance(89)
        assert_throttled(await token(one, user.email, PASSWORD), 1, "1 second")
        clock.advance(1)
        assert (await token(one, user.email, PASSWORD)).status_code == 200
        # The login cleared the account's counts in Redis, for both workers.
        assert (await token(two, user.email, WRONG)).status_code == 401
        assert (await token(two, user.email, WRONG)).status_code == 401


async def test_with_redis_a_stranger_does_not_stop_the_owner(
    make_app: AppFactory, clock: Clock, redis_url: str, redis_prefix: str
) -> None:
    app = await throttled_app(make_app, clock, redis_url=redis_url, redis_key_prefix=redis_prefix)
    user = await new_user(app)
    async with browser(app, STRANGER) as stranger, browser(app, OWNER) as owner:
        for _ in range(5):
            assert (await token(stranger, user.email, WRONG)).status_code == 401
        assert_throttled(await token(stranger, user.email, PASSWORD), 60, "1 minute")
        assert (await token(owner, user.email, PASSWORD)).status_code == 200
