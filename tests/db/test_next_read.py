"""The version's read shared by the requests for kept answers that arrive together
(fastblog.db.next_read.NextRead): one read for many, and never one that started before a
request arrived (it could have read before that request's own write committed)."""

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.db.next_read import NextRead
from tests.asgi import resources_of
from tests.factories import StatementCounter, api_created_post, make_user
from tests.web.test_kept_pages import keep, settled

pytestmark = pytest.mark.anyio


class Reads:
    """A read that counts itself and, when told to, waits at its start for `go`."""

    def __init__(self) -> None:
        self.started = 0
        self.hold = False
        self.go = asyncio.Event()
        self.under_way = asyncio.Event()

    async def __call__(self) -> int:
        self.started += 1
        number = self.started
        self.under_way.set()
        if self.hold:
            await self.go.wait()
        return number


async def test_requests_that_ask_together_share_one_read() -> None:
    reads = Reads()
    version = NextRead(reads)

    answers = await asyncio.gather(*(version() for _ in range(20)))

    assert answers == [1] * 20
    assert reads.started == 1


async def test_a_request_never_gets_a_read_that_started_before_it_asked() -> None:
    reads = Reads()
    reads.hold = True
    version = NextRead(reads)
    first = asyncio.create_task(version())
    await reads.under_way.wait()  # read 1 has started

    later = [asyncio.create_task(version()) for _ in range(5)]  # they ask during read 1
    await asyncio.sleep(0)
    assert reads.started == 1  # the next read waits for the one under way
    reads.go.set()

    assert await first == 1
    assert [await task for task in later] == [2] * 5  # read 2, which started after they asked
    assert reads.started == 2


async def test_a_failed_read_fails_those_who_shared_it_and_the_next_ask_reads_again() -> None:
    calls = 0

    async def failing_once() -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("the database is away")
        return 7

    version = NextRead(failing_once)
    results = await asyncio.gather(version(), version(), return_exceptions=True)
    assert [type(result) for result in results] == [ConnectionError, ConnectionError]
    assert await version() == 7


async def test_a_kept_page_asked_for_by_many_at_once_reads_the_version_once_or_so(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session, username="author")
    post = await api_created_post(client, author, title="Read by many")
    await settled(app, post["id"])
    database = resources_of(app).database
    await keep(client, StatementCounter(database), "/")

    everything = StatementCounter(database, background=True)  # the shared read's task too
    with everything() as statements:
        pages = await asyncio.gather(*(client.get("/") for _ in range(30)))

    assert {page.status_code for page in pages} == {200}
    assert len({page.content for page in pages}) == 1
    versions = [sql for sql in statements if "page_versions" in sql]
    assert 1 <= len(versions) < 30, statements


async def test_the_tag_list_asked_for_by_many_at_once_reads_its_version_once_or_so(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session, username="author")
    post = await api_created_post(client, author, title="Tagged", tags=["kept"])
    await settled(app, post["id"])
    first = await client.get("/api/tags")  # read and kept
    assert first.json()["tags"] == [{"name": "kept", "posts": 1}]

    everything = StatementCounter(resources_of(app).database, background=True)
    with everything() as statements:
        lists = await asyncio.gather(*(client.get("/api/tags") for _ in range(30)))

    assert {answer.content for answer in lists} == {first.content}
    versions = [sql for sql in statements if "tag_count_versions" in sql]
    assert 1 <= len(versions) < 30, statements
