"""Write rate limits per user: over the minute's budget a write is a 429 with Retry-After (JSON
and page alike); only accepted writes count; Redis shares the counts between app instances;
WRITE_RATE_LIMITS=false turns them off. Time is an injected clock: no test sleeps."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import redis.asyncio
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from fastblog.config import Settings
from fastblog.write_limits import MemoryCounts, RedisCounts, WriteLimiter
from tests.accounts import bearer, browser_login, submit
from tests.apps import create_app
from tests.asgi import asgi_transport, resources_of, started
from tests.conftest import make_settings
from tests.factories import make_posts, make_user
from tests.html import read_page

pytestmark = pytest.mark.anyio


class Clock:
    """Starts at the beginning of a minute: a budget's window is the clock's minute."""

    def __init__(self) -> None:
        self.now = 60.0 * 29_000_000

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def limited(app: FastAPI, clock: Clock) -> Iterator[WriteLimiter]:
    """The app with write limits on, counted in memory on the test's clock."""
    resources = resources_of(app)
    kept = resources.write_limiter
    resources.write_limiter = WriteLimiter(MemoryCounts(), clock=clock)
    try:
        yield resources.write_limiter
    finally:
        resources.write_limiter = kept


@pytest.fixture
async def users(session: AsyncSession) -> list[User]:
    return [await make_user(session) for _ in range(3)]


async def new_post(client: httpx.AsyncClient, app: FastAPI, user: User) -> httpx.Response:
    body = {"title": "Spam?", "content": "Maybe."}
    return await client.post("/api/posts", json=body, headers=bearer(app, user))


@pytest.mark.usefixtures("limited")
async def test_the_eleventh_post_in_a_minute_is_429_until_the_minute_is_over(
    app: FastAPI, client: httpx.AsyncClient, users: list[User], clock: Clock
) -> None:
    writer, other = users[0], users[1]
    for _ in range(10):
        assert (await new_post(client, app, writer)).status_code == 201
        clock.now += 1

    refused = await new_post(client, app, writer)

    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "50"
    assert refused.json() == {"detail": "Too many posts in a minute: try again in 50 seconds."}
    assert (await new_post(client, app, other)).status_code == 201  # per user
    clock.now += 49.5
    assert (await new_post(client, app, writer)).headers["retry-after"] == "1"
    clock.now += 0.5
    assert (await new_post(client, app, writer)).status_code == 201
    listed = (await client.get(f"/api/users/{writer.id}/posts", params={"limit": 100})).json()
    assert listed["total"] == 11  # no refused post was written


@pytest.mark.usefixtures("limited")
async def test_likes_and_follows_allow_sixty_a_minute_each(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, users: list[User]
) -> None:
    reader, author, other = users
    (post,) = await make_posts(session, author, 1)
    headers = bearer(app, reader)
    for n in range(60):
        method = "POST" if n % 2 == 0 else "DELETE"
        response = await client.request(method, f"/api/posts/{post.id}/like", headers=headers)
        assert response.status_code == 200, (n, response.text)

    refused = await client.post(f"/api/posts/{post.id}/like", headers=headers)
    follow = await client.post(f"/api/users/{other.id}/follow", headers=headers)

    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert "Too many likes" in refused.json()["detail"]
    assert follow.status_code == 200
    assert (await client.get(f"/api/posts/{post.id}")).json()["likes"] == 0


@pytest.mark.usefixtures("limited")
async def test_refused_and_invalid_writes_do_not_count(
    app: FastAPI, client: httpx.AsyncClient, users: list[User]
) -> None:
    writer = users[0]
    headers = bearer(app, writer)
    for _ in range(70):
        assert (await client.post("/api/posts/999999/like", headers=headers)).status_code == 404
        self_follow = await client.post(f"/api/users/{writer.id}/follow", headers=headers)
        assert self_follow.status_code == 422
    for _ in range(15):
        invalid = await client.post("/api/posts", json={"title": ""}, headers=headers)
        assert invalid.status_code == 422

    for _ in range(10):
        assert (await new_post(client, app, writer)).status_code == 201
    assert (await client.post(f"/api/users/{users[1].id}/follow", headers=headers)).is_success
    for _ in range(5):
        assert (await new_post(client, app, writer)).status_code == 429


@pytest.mark.usefixtures("limited")
async def test_forms_over_the_limit_get_a_429_page(
    client: httpx.AsyncClient, session: AsyncSession, users: list[User], clock: Clock
) -> None:
    reader, author = users[0], users[1]
    (post,) = await make_posts(session, author, 1)
    await browser_login(client, reader)
    for n in range(60):
        action = "like" if n % 2 == 0 else "unlike"
        assert (await submit(client, f"/posts/{post.id}/{action}")).status_code == 303
    clock.now += 20

    refused = await submit(client, f"/posts/{post.id}/like")

    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "40"
    page = read_page(refused)
    assert page.title.startswith("Slow down")
    assert "Too many likes in a minute: try again in 40 seconds." in page.text


async def test_without_write_rate_limits_nothing_is_refused(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, users: list[User]
) -> None:
    """The suite's app runs with WRITE_RATE_LIMITS=false (tests.conftest.make_settings)."""
    assert resources_of(app).settings.write_rate_limits is False
    (post,) = await make_posts(session, users[1], 1)
    headers = bearer(app, users[0])
    for n in range(70):
        method = "POST" if n % 2 == 0 else "DELETE"
        response = await client.request(method, f"/api/posts/{post.id}/like", headers=headers)
        assert response.status_code == 200
    statuses = {(await new_post(client, app, users[0])).status_code for _ in range(12)}
    assert statuses == {201}


@pytest.fixture
async def two_instances(
    settings: Settings, redis_url: str, tmp_path: Path, clock: Clock
) -> AsyncIterator[list[FastAPI]]:
    """Two app instances on one database and one Redis (as two workers or hosts), with write
    limits on, each on the test's clock; keys under a prefix of this test's own."""
    prefix = f"fastblog-test-{uuid.uuid4().hex[:8]}:"
    apps = [
        create_app(
            make_settings(
                settings.database_url,
                tmp_path / "media",
                redis_url=redis_url,
                redis_key_prefix=prefix,
                write_rate_limits=True,
            )
        )
        for _ in range(2)
    ]
    try:
        async with started(apps[0]) as first, started(apps[1]) as second:
            for resources in (first, second):
                assert isinstance(resources.write_limiter.counts, RedisCounts)
                resources.write_limiter.clock = clock
            yield apps
    finally:
        connection = redis.asyncio.Redis.from_url(redis_url)
        async with connection:
            keys = [key async for key in connection.scan_iter(match=f"{prefix}*")]
            if keys:
                await connection.delete(*keys)


async def test_two_instances_share_the_budget_through_redis(
    client: httpx.AsyncClient, users: list[User], two_instances: list[FastAPI], clock: Clock
) -> None:
    writer = users[0]
    statuses = []
    for n in range(12):
        app = two_instances[n % 2]
        async with httpx.AsyncClient(
            transport=asgi_transport(app), base_url="http://testserver"
        ) as instance:
            response = await new_post(instance, app, writer)
            statuses.append(response.status_code)
            if response.status_code == 429:
                assert response.headers["retry-after"] == "60"

    assert statuses == [201] * 10 + [429] * 2
    clock.now += 60
    async with httpx.AsyncClient(
        transport=asgi_transport(two_instances[1]), base_url="http://testserver"
    ) as instance:
        assert (await new_post(instance, two_instances[1], writer)).status_code == 201


@pytest.mark.usefixtures("limited")
async def test_the_new_post_form_shares_the_posts_budget(
    app: FastAPI, client: httpx.AsyncClient, users: list[User]
) -> None:
    writer = users[0]
    for _ in range(9):
        assert (await new_post(client, app, writer)).status_code == 201
    await browser_login(client, writer)
    form = {"title": "From the form", "content": "Words.", "action": "publish"}

    tenth = await submit(client, "/posts/new", form)
    eleventh = await submit(client, "/posts/new", form)

    assert tenth.status_code == 303
    assert eleventh.status_code == 429
    assert eleventh.headers["retry-after"] == "60"
    assert "Too many posts in a minute" in read_page(eleventh).text


@pytest.mark.usefixtures("limited")
async def test_a_burst_of_simultaneous_writes_gets_exactly_the_budget_through(
    app: FastAPI, client: httpx.AsyncClient, users: list[User]
) -> None:
    """The budget is taken before the write, atomically: 30 posts sent at once by one user are
    10 posts and 20 refusals, not 30 posts."""
    writer = users[0]

    responses = await asyncio.gather(*(new_post(client, app, writer) for _ in range(30)))

    assert sorted(response.status_code for response in responses) == [201] * 10 + [429] * 20
