"""Request bodies over the limit are refused with 413, declared or streamed."""

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import Message

from fastblog.accounts.models import User
from fastblog.limits import readable_size
from tests.accounts import bearer, browser, browser_login, csrf_token, read_form
from tests.apps import create_app
from tests.auth.conftest import AppFactory
from tests.conftest import make_settings
from tests.factories import make_user
from tests.html import read_page

pytestmark = pytest.mark.anyio

ONE_MB = 1024 * 1024
TOO_LARGE = {"detail": "The request is larger than 1 MB."}


@pytest.fixture
async def user(session: AsyncSession) -> User:
    return await make_user(session)


def post_body(content_bytes: int) -> bytes:
    return json.dumps({"title": "Big", "content": "x" * content_bytes}).encode()


async def chunked(body: bytes, chunk: int = 64 * 1024) -> AsyncIterator[bytes]:
    """A streamed body: httpx sends it without Content-Length."""
    for start in range(0, len(body), chunk):
        yield body[start : start + chunk]


def body_of_exactly(size: int) -> bytes:
    """A post's JSON of exactly `size` bytes (its content far past the post's own limit)."""
    return post_body(size - len(post_body(0)))


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


@pytest.mark.parametrize("streamed", [False, True], ids=["declared", "chunked"])
async def test_a_body_of_exactly_the_limit_is_read_and_one_byte_more_is_not(
    app: FastAPI, client: httpx.AsyncClient, user: User, streamed: bool
) -> None:
    headers = {**bearer(app, user), "Content-Type": "application/json"}

    async def send(body: bytes) -> httpx.Response:
        content = chunked(body) if streamed else body
        return await client.post("/api/posts", content=content, headers=headers)

    at_the_limit = await send(body_of_exactly(ONE_MB))
    # Read in full: the post's own check answers, naming the field.
    assert at_the_limit.status_code == 422, at_the_limit.text
    assert at_the_limit.json()["detail"][0]["loc"] == ["body", "content"]
    one_more = await send(body_of_exactly(ONE_MB + 1))
    assert one_more.status_code == 413
    assert one_more.json() == TOO_LARGE


async def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_sent(
    app: FastAPI, client: httpx.AsyncClient, user: User
) -> None:
    """Whoever uploads too much is told at once, not after sending all of it."""
    body = post_body(2 * ONE_MB)
    chunks_sent = 0

    async def upload() -> AsyncIterator[bytes]:
        nonlocal chunks_sent
        async for chunk in chunked(body):
            chunks_sent += 1
            yield chunk

    response = await client.post(
        "/api/posts",
        content=upload(),
        headers={
            **bearer(app, user),
            "Content-Type": "application/json",
            "Content-Length": str(len(body)),
        },
    )

    assert response.status_code == 413
    assert response.json() == TOO_LARGE
    assert chunks_sent == 0


async def test_the_configured_limits_are_the_ones_applied_and_named(
    make_app: AppFactory,
) -> None:
    app = await make_app(
        max_body_bytes=64 * 1024, max_upload_bytes=ONE_MB, max_picture_bytes=ONE_MB
    )
    async with browser(app) as client:
        json_over = await client.post(
            "/api/posts",
            content=body_of_exactly(64 * 1024 + 1),
            headers={"Content-Type": "application/json"},
        )
        # A file of exactly the upload limit is read, whatever the route then says of it;
        # past the limit and the room a form's fields take around it, it is not.
        upload_at = await client.post("/api/posts", files={"file": ("big.png", b"\0" * ONE_MB)})
        upload_over = await client.post(
            "/api/posts", files={"file": ("big.png", b"\0" * (ONE_MB + 64 * 1024 + 1))}
        )

    assert json_over.status_code == 413
    assert json_over.json() == {"detail": "The request is larger than 64 KB."}
    assert upload_at.status_code == 401, upload_at.text
    assert upload_over.status_code == 413
    assert upload_over.json() == {"detail": "The request is larger than 1 MB."}


async def test_a_servers_lifespan_passes_the_limit_untouched(
    own_database_url: str, tmp_path: Path
) -> None:
    """A server sends the lifespan through every middleware (the tests' apps start without)."""
    app = create_app(make_settings(own_database_url, tmp_path / "media"))
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[str] = []

    async def receive() -> Message:
        return next(messages)

    async def send(message: Message) -> None:
        sent.append(message["type"])

    await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)

    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


@pytest.mark.parametrize(
    ("size", "words"),
    [
        (1000, "1000 bytes"),
        (1023, "1023 bytes"),
        (1024, "1 KB"),
        (1536, "1.5 KB"),
        (64 * 1024, "64 KB"),
        (ONE_MB, "1 MB"),
        (ONE_MB * 3 // 2, "1.5 MB"),
        (5 * ONE_MB, "5 MB"),
    ],
)
def test_a_limit_is_named_as_people_say_sizes(size: int, words: str) -> None:
    """The words of every 413 ("The request is larger than 64 KB.") and of the forms' hints."""
    assert readable_size(size) == words


async def test_a_post_form_over_the_limit_comes_back_as_the_form_with_the_reason(
    client: httpx.AsyncClient, user: User
) -> None:
    await browser_login(client, user)
    form = {"title": "Big", "content": "x" * (3 * ONE_MB), "csrf_token": await csrf_token(client)}

    response = await client.post("/posts/new", data=form)

    assert response.status_code == 413
    page = read_page(response)
    assert page.title.startswith("New post")
    errors = read_form(response.text).errors
    assert list(errors) == ["content"]
    assert "at most 100,000 characters" in errors["content"]
    assert page.link(user.username).path == "/account"  # still logged in, as it says
    assert await total_posts(client) == 0


async def test_a_post_over_100000_characters_keeps_its_text_in_the_form(
    client: httpx.AsyncClient, user: User
) -> None:
    await browser_login(client, user)
    content = "é" * 100_001  # 1.2 MB percent-encoded: over the JSON limit, under the form's
    form = {"title": "Long", "content": content, "csrf_token": await csrf_token(client)}

    response = await client.post("/posts/new", data=form)

    assert response.status_code == 422
    errors = read_form(response.text).errors
    assert errors["content"] == "Please use at most 100,000 characters."
    assert content in response.text
    assert await total_posts(client) == 0


async def test_a_413_elsewhere_is_an_error_page(client: httpx.AsyncClient, user: User) -> None:
    await browser_login(client, user)
    token = await csrf_token(client)

    response = await client.post("/logout", data={"csrf_token": token, "x": "x" * 3 * ONE_MB})

    assert response.status_code == 413
    assert "The request is larger than 2 MB." in read_page(response).text
