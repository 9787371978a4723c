import asyncio

import pytest

from bench.asyncgen import build_requests, read_response
from bench.load import Scenario

pytestmark = pytest.mark.anyio


def test_requests_spread_ids_over_the_range() -> None:
    requests = build_requests("127.0.0.1:4000", Scenario("post", "/p/{id}", ids=range(1, 1001)))

    paths = {request.split(b" ")[1] for request in requests}
    ids = {int(path.rsplit(b"/", 1)[1]) for path in paths}
    assert len(ids) > 500  # spread, not one hot row
    assert min(ids) >= 1
    assert max(ids) <= 1000
    assert all(request.endswith(b"\r\n\r\n") for request in requests)


def test_requests_carry_body_headers_and_length() -> None:
    scenario = Scenario(
        "create",
        "/api/posts",
        "POST",
        body='{"user_id": {id}}',
        headers={"Authorization": "Bearer abc"},
        ids=range(7, 8),
    )

    (request,) = set(build_requests("127.0.0.1:4000", scenario))

    head, body = request.split(b"\r\n\r\n")
    assert body == b'{"user_id": 7}'
    assert head.startswith(b"POST /api/posts HTTP/1.1\r\nHost: 127.0.0.1:4000")
    assert b"\r\nAuthorization: Bearer abc" in head
    assert f"\r\nContent-Length: {len(body)}".encode() in head


def reader_with(data: bytes) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return reader


async def test_reads_a_response_by_content_length() -> None:
    reader = reader_with(
        b"HTTP/1.1 201 Created\r\nContent-Length: 5\r\n\r\nhello"
        b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"
    )

    assert await read_response(reader) == (201, True)
    assert await read_response(reader) == (404, True)
    assert reader.at_eof()


async def test_reads_a_chunked_response() -> None:
    reader = reader_with(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n"
    )

    assert await read_response(reader) == (200, True)
    assert reader.at_eof()


async def test_a_closing_response_ends_the_connection() -> None:
    reader = reader_with(b"HTTP/1.1 503 Busy\r\nConnection: close\r\n\r\nuntil the end")

    assert await read_response(reader) == (503, False)
