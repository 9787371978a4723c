"""Request bodies over the limit are refused with 413, declared or streamed."""

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from tests.accounts import bearer, browser_login, csrf_token
from tests.factories import make_user

pytestmark = pytest.mark.anyio

ONE_MB = 1024 * 1024
TOO_LARGE = {"detail": "Request body larger than 1.0 MB"}


@pytest.fixture
async def user(session: AsyncSession) -> User:
    return await make_user(session)


def post_body(content_bytes: int) -> bytes:
    return json.dumps({"title": "Big", "content": "x" * content_bytes}).encode()


async def chunked(body: bytes, chunk: int = 64 * 1024) -> AsyncIterator[bytes]:
    """A streamed body: httpx sends it without Content-Length."""
    for start in range(0, len(body), chunk):
        yield body[start : start + chunk]


async def total_posts(client: httpx.AsyncClient) -> int:
    total: int = (await client.get("/api/posts")).json()["total"]
    return total


async def test_a_json_body_over_1_mb_is_413_in_json(
    app: FastAPI, client: httpx.AsyncClient, user: User
) -> None:
    response = await client.post(
        "/api/posts",
        content=post_body(ONE_MB),
        headers={**bearer(app, user), "Content-Type": "application/json"},
    )

    assert response.status_code == 413
    assert response.json() == TOO_LARGE
    assert await total_posts(client) == 0


async def test_the_limit_applies_before_authentication(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/posts", content=post_body(2 * ONE_MB), headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 413


async def test_a_chunked_body_over_the_limit_is_413(
    app: FastAPI, client: httpx.AsyncClient, user: User
) -> None:
    request = client.build_request(
        "POST",
        "/api/posts",
        content=chunked(post_body(ONE_MB)),
        headers={**bearer(app, user), "Content-Type": "application/json"},
    )
    assert "content-length" not in request.headers

    response = await client.send(request)

    assert response.status_code == 413
    assert response.json() == TOO_LARGE
    assert await total_posts(client) == 0


async def test_a_chunked_body_under_the_limit_is_read(
    app: FastAPI, client: httpx.AsyncClient, user: User
) -> None:
    """The control for the test above: streaming itself is fine."""
    response = await client.post(
        "/api/posts",
        content=chunked(post_body(90_000), chunk=4096),
        headers={**bearer(app, user), "Content-Type": "application/json"},
    )

    assert response.status_code == 201, response.text
    assert await total_posts(client) == 1


async def test_a_form_over_the_limit_is_413_as_a_page(
    client: httpx.AsyncClient, user: User
) -> None:
    await browser_login(client, user)
    form = {"title": "Big", "content": "x" * (2 * ONE_MB), "csrf_token": await csrf_token(client)}

    response = await client.post("/posts/new", data=form)

    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "Request body larger than 1.0 MB" in response.text
    assert await total_posts(client) == 0
