"""HEAD works wherever GET does, with the GET's status and headers and no body."""

from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.apps import create_app
from tests.conftest import make_settings
from tests.factories import make_posts, make_user

# Headers that must be the same for a HEAD and the GET it stands for (the session cookie and
# the date may differ between two requests).
SAME = (
    "content-type",
    "content-length",
    "content-encoding",
    "vary",
    "cache-control",
    "x-content-type-options",
)


async def paths(session: AsyncSession) -> list[str]:
    author = await make_user(session)
    (post,) = await make_posts(session, author, 1)
    return [
        "/",
        "/posts",
        f"/posts/{post.id}",
        f"/users/{author.id}/posts",
        "/login",
        "/register",
        "/health",
        "/ready",
        "/api/posts",
        f"/api/posts/{post.id}",
        f"/api/users/{author.id}",
        f"/api/users/{author.id}/posts",
        "/openapi.json",
        "/docs",
        "/static/css/main.css",
        "/no/such/page",
        f"/api/posts/{post.id + 1000}",
    ]


@pytest.mark.anyio
async def test_head_is_the_get_without_its_body(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    for path in await paths(session):
        async with client.stream("GET", path) as get:
            sent = b"".join([chunk async for chunk in get.aiter_raw()])  # compressed or not
        head = await client.head(path)

        assert head.status_code == get.status_code, path
        assert head.content == b"", path
        for name in SAME:
            assert head.headers.get(name) == get.headers.get(name), (path, name)
        if get.status_code == 200:
            assert int(head.headers["content-length"]) == len(sent), path


@pytest.mark.parametrize("path", ["/", "/health"])
@pytest.mark.anyio
async def test_head_answers_200(client: httpx.AsyncClient, path: str) -> None:
    response = await client.head(path)

    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.anyio
async def test_head_is_refused_where_get_is(client: httpx.AsyncClient) -> None:
    for path in ("/logout", "/api/users"):
        response = await client.head(path)
        assert response.status_code == 405, path
        assert "HEAD" not in response.headers["allow"], path
        assert response.content == b""


@pytest.mark.anyio
async def test_a_405_names_head_beside_get(client: httpx.AsyncClient) -> None:
    response = await client.delete("/health")

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


def test_openapi_lists_no_head_operations() -> None:
    document = create_app(make_settings("sqlite+aiosqlite:///:memory:", Path("media"))).openapi()

    assert all("head" not in operations for operations in document["paths"].values())
