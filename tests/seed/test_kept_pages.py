"""`fastblog seed` and the pages a served blog keeps (fastblog.web.kept_pages): the seed writes
posts with the page_versions triggers of posts and post_tags suspended, moves the version
once itself, and puts the triggers back."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from fastblog.config import Settings
from fastblog.models import Post
from fastblog.resources import Resources
from fastblog.seed import seed
from tests.apps import create_app
from tests.asgi import asgi_transport, started
from tests.factories import StatementCounter
from tests.html import read_page

pytestmark = pytest.mark.anyio

VERSIONED = ("posts", "post_tags")


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[tuple[Resources, httpx.AsyncClient]]:
    app = create_app(settings)
    async with (
        started(app) as resources,
        httpx.AsyncClient(transport=asgi_transport(app), base_url="http://testserver") as client,
    ):
        yield resources, client


async def kept_home(client: httpx.AsyncClient, resources: Resources) -> httpx.Response:
    """The home page asked for until it is served kept: one statement, the version's."""
    counter = StatementCounter(resources.database)
    for n in range(8):
        with counter() as statements:
            response = await client.get("/")
        assert response.status_code == 200, response.text
        if n >= 2 and len(statements) == 1 and "page_versions" in statements[0]:
            return response
    raise AssertionError(f"the home page was not served kept: {statements}")


def post_titles(response: httpx.Response, titles: set[str]) -> set[str]:
    return {link.text for link in read_page(response).links} & titles


async def versioning_triggers(connection: AsyncConnection) -> set[str]:
    """The tables of VERSIONED whose page_versions triggers are there and enabled."""
    if connection.dialect.name == "sqlite":
        rows = await connection.execute(
            text("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'")
        )
        names = {(table, name) for table, name in rows}
        return {
            table
            for table in VERSIONED
            if all(
                (table, f"{table}_page_versioned_on_{event}") in names
                for event in ("insert", "update", "delete")
            )
        }
    rows = await connection.execute(
        text(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE t.tgname = c.relname || '_page_versioned' AND t.tgenabled <> 'D'"
        )
    )
    return set(rows.scalars()) & set(VERSIONED)


async def test_a_page_kept_before_a_seed_shows_the_seeded_posts_and_writes_after_it(
    settings: Settings, connection: AsyncConnection
) -> None:
    async with serving(settings) as (resources, client):
        before = await kept_home(client, resources)

        await seed(settings, users=2, posts=12, workers=1)

        titles = set((await connection.execute(select(Post.title))).scalars())
        await connection.rollback()
        assert titles
        after = await client.get("/")
        assert post_titles(after, titles), "the seeded posts are not on the home page"
        assert not post_titles(before, titles)

        # The triggers are back: a write after the seed shows on the next request too.
        assert await versioning_triggers(connection) == set(VERSIONED)
        await connection.rollback()
        shown = post_titles(await kept_home(client, resources), titles)
        title = sorted(shown)[0]
        await connection.execute(
            text("UPDATE posts SET title = 'Rewritten after the seed' WHERE title = :title"),
            {"title": title},
        )
        await connection.commit()
        rewritten = {link.text for link in read_page(await client.get("/")).links}
        assert "Rewritten after the seed" in rewritten
        assert title not in rewritten
