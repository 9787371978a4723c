"""Compressed responses as a browser sees them: the coding it asked for, bytes that decode to
the very page it would get uncompressed, validators per coding, and nothing compressed that
should not be."""

import gzip
import zlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from uuid import uuid4

import brotli
import httpx
import pytest
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import Message, Receive, Scope, Send

from fastblog.compression import CompressionMiddleware
from fastblog.models import Post, User
from fastblog.posts.syndication import compressed_documents
from tests.factories import make_posts, make_user

pytestmark = pytest.mark.anyio

BROWSER = "gzip, deflate, br, zstd"  # what Chromium sends
DECODERS: dict[str, Callable[[bytes], bytes]] = {"br": brotli.decompress, "gzip": gzip.decompress}


async def fetch_raw(
    client: httpx.AsyncClient, path: str, **headers: str
) -> tuple[httpx.Response, bytes]:
    """The response and its body as sent, before httpx would decode it."""
    async with client.stream("GET", path, headers=headers, follow_redirects=True) as response:
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
    return response, raw


def decoded(response: httpx.Response, raw: bytes) -> bytes:
    coding = response.headers.get("content-encoding")
    return DECODERS[coding](raw) if coding else raw


@pytest.fixture
async def author(session: AsyncSession) -> User:
    return await make_user(session, username="author")


@pytest.fixture
async def long_post(session: AsyncSession, author: User) -> Post:
    post = Post(
        title="A long post",
        content="A paragraph long enough to be worth compressing, said many times. " * 40,
        user_id=author.id,
        date_posted=datetime(2026, 3, 3, 9, 0, tzinfo=UTC),
    )
    session.add(post)
    await session.commit()
    return post


@pytest.mark.parametrize(
    ("accept_encoding", "coding"),
    [
        (BROWSER, "br"),
        ("gzip, br", "br"),  # equal q-values: Brotli
        ("gzip", "gzip"),
        ("br;q=0.5, gzip", "gzip"),  # the client's preference wins
        ("gzip;q=0.2, br;q=0.9", "br"),
        ("br;q=0, gzip;q=0.1", "gzip"),
        ("*", "br"),
        ("*;q=0.5, br;q=0", "gzip"),
        ("identity", None),
        ("gzip;q=0, br;q=0", None),
        ("deflate", None),
    ],
)
async def test_the_post_page_comes_in_the_coding_the_client_prefers(
    client: httpx.AsyncClient, long_post: Post, accept_encoding: str, coding: str | None
) -> None:
    path = f"/posts/{long_post.id}"
    plain, plain_body = await fetch_raw(client, path, **{"Accept-Encoding": "identity"})

    response, raw = await fetch_raw(client, path, **{"Accept-Encoding": accept_encoding})

    assert response.status_code == 200
    assert response.headers.get("content-encoding") == coding
    assert "Accept-Encoding" in response.headers["vary"]
    assert int(response.headers["content-length"]) == len(raw)
    assert decoded(response, raw) == plain_body
    if coding is not None:
        assert len(raw) < len(plain_body) / 2
        assert response.headers["etag"] != plain.headers["etag"]


async def test_each_coding_has_its_own_etag_and_revalidates(
    client: httpx.AsyncClient, long_post: Post
) -> None:
    path = f"/posts/{long_post.id}"
    tags = {}
    for coding in ("br", "gzip", "identity"):
        response, _ = await fetch_raw(client, path, **{"Accept-Encoding": coding})
        tags[coding] = response.headers["etag"]
    assert len(set(tags.values())) == 3
    assert not any(tag.startswith("W/") for tag in tags.values())

    again = await client.get(
        path, headers={"Accept-Encoding": "br", "If-None-Match": tags["br"]}, follow_redirects=True
    )

    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == tags["br"]
    assert "Accept-Encoding" in again.headers["vary"]


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/api/posts", "application/json"),
        ("/feed.xml", "application/atom+xml"),
        ("/sitemap.xml", "application/xml"),
        ("/no/such/page", "text/html"),
    ],
)
async def test_json_feeds_sitemaps_and_error_pages_are_compressed(
    client: httpx.AsyncClient, session: AsyncSession, author: User, path: str, media_type: str
) -> None:
    await make_posts(session, author, 20)
    _, plain_body = await fetch_raw(client, path, **{"Accept-Encoding": "identity"})

    response, raw = await fetch_raw(client, path, **{"Accept-Encoding": "gzip"})

    assert response.headers["content-type"].startswith(media_type)
    assert response.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["vary"]
    assert decoded(response, raw) == plain_body


async def test_the_stylesheet_is_compressed(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    (stylesheet, *_) = [
        href for href in page.text.split('"') if href.startswith("/static/css/main.")
    ]
    _, plain_body = await fetch_raw(client, stylesheet, **{"Accept-Encoding": "identity"})

    response, raw = await fetch_raw(client, stylesheet, **{"Accept-Encoding": BROWSER})

    assert response.headers["content-encoding"] == "br"
    assert decoded(response, raw) == plain_body
    assert b"font-family" in plain_body


@pytest.mark.parametrize("path", ["/favicon.ico", "/static/img/default-avatar.png"])
async def test_images_are_never_compressed(client: httpx.AsyncClient, path: str) -> None:
    response, raw = await fetch_raw(client, path, **{"Accept-Encoding": BROWSER})

    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    assert "Accept-Encoding" not in response.headers.get("vary", "")
    assert len(raw) == int(response.headers["content-length"])


async def test_a_tiny_body_is_sent_as_is_but_still_varies(client: httpx.AsyncClient) -> None:
    response, raw = await fetch_raw(client, "/robots.txt", **{"Accept-Encoding": BROWSER})

    assert len(raw) < 500
    assert "content-encoding" not in response.headers
    assert "Accept-Encoding" in response.headers["vary"]
    assert b"Sitemap:" in raw


async def test_a_feed_is_compressed_once_per_version(
    client: httpx.AsyncClient, session: AsyncSession, author: User
) -> None:
    await make_posts(session, author, 4)
    # A title no earlier test wrote: this version of the feed was never compressed before.
    unique = Post(title=f"Post {uuid4()}", content="Today's.", user_id=author.id)
    session.add(unique)
    await session.commit()
    _, plain_body = await fetch_raw(client, "/feed.xml", **{"Accept-Encoding": "identity"})
    before = compressed_documents.compressions

    first, first_raw = await fetch_raw(client, "/feed.xml", **{"Accept-Encoding": BROWSER})
    second, second_raw = await fetch_raw(client, "/feed.xml", **{"Accept-Encoding": BROWSER})

    assert compressed_documents.compressions == before + 1
    assert first.headers["content-encoding"] == second.headers["content-encoding"] == "br"
    assert first_raw == second_raw
    assert decoded(first, first_raw) == plain_body
    assert first.headers["etag"] == second.headers["etag"]

    polled = await client.get(
        "/feed.xml", headers={"Accept-Encoding": BROWSER, "If-None-Match": first.headers["etag"]}
    )
    assert polled.status_code == 304
    assert polled.headers["etag"] == first.headers["etag"]

    await make_posts(session, author, 1)
    changed, changed_raw = await fetch_raw(client, "/feed.xml", **{"Accept-Encoding": BROWSER})
    assert changed.headers["etag"] != first.headers["etag"]
    assert compressed_documents.compressions == before + 2
    assert b"Post 1 by author" in decoded(changed, changed_raw)


async def test_head_tells_what_get_would_send(client: httpx.AsyncClient, long_post: Post) -> None:
    path = f"/posts/{long_post.id}"
    get, raw = await fetch_raw(client, path, **{"Accept-Encoding": "gzip"})

    head = await client.head(get.url, headers={"Accept-Encoding": "gzip"})

    assert head.content == b""
    assert head.headers["content-encoding"] == "gzip"
    assert head.headers["content-length"] == str(len(raw))
    assert head.headers["etag"] == get.headers["etag"]


PARTS = [f"<p>part {n} {'of a streamed page ' * 40}</p>\n".encode() for n in range(3)]


async def streamed_page(scope: Scope, receive: Receive, send: Send) -> None:
    async def parts() -> AsyncIterator[bytes]:
        for part in PARTS:
            yield part

    await StreamingResponse(parts(), media_type="text/html")(scope, receive, send)


@pytest.mark.parametrize("coding", ["br", "gzip"])
async def test_a_streamed_response_arrives_part_by_part(coding: str) -> None:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "headers": [(b"accept-encoding", coding.encode())],
    }
    await CompressionMiddleware(streamed_page)(scope, receive, send)

    start, *bodies = sent
    headers = dict(start["headers"])
    assert headers[b"content-encoding"] == coding.encode()
    assert b"content-length" not in headers
    assert len(bodies) == len(PARTS) + 1  # one message per part, then the end
    # Each part decodes as soon as it arrives: nothing waits for the end of the stream.
    decode = (
        brotli.Decompressor().process
        if coding == "br"
        else zlib.decompressobj(16 + zlib.MAX_WBITS).decompress
    )
    seen = b""
    for part, body in zip(PARTS, bodies, strict=False):
        assert body["more_body"] is True
        seen += decode(body["body"])
        assert seen.endswith(part)
    seen += decode(bodies[-1]["body"])
    assert seen == b"".join(PARTS)
    assert bodies[-1].get("more_body", False) is False
