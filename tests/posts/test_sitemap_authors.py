"""An author's entry in the sitemap: listed once, dated by their own newest post that readers
can see, never by a scheduled post's future date or by someone else's post."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.db import utcnow
from fastblog.posts.models import Post
from fastblog.posts.syndication import get_sitemap_limit
from tests.factories import make_posts, make_user
from tests.posts.test_sitemap import NS, SITE, locations, read_xml

pytestmark = pytest.mark.anyio


@pytest.fixture
def small_sitemaps(app: FastAPI) -> Iterator[None]:
    """One author a sitemap: every author's range is a sitemap of its own."""
    app.dependency_overrides[get_sitemap_limit] = lambda: 1
    yield
    del app.dependency_overrides[get_sitemap_limit]


async def entries(client: httpx.AsyncClient) -> list[tuple[str, str | None]]:
    """Every (address, lastmod) of every sitemap the index lists, in order."""
    found: list[tuple[str, str | None]] = []
    for url in locations(await read_xml(client, "/sitemap.xml"), "sitemap"):
        root = await read_xml(client, url.removeprefix(SITE))
        for item in root.findall("sm:url", NS):
            found.append((item.findtext("sm:loc", "", NS), item.findtext("sm:lastmod", None, NS)))
    return found


@pytest.mark.usefixtures("small_sitemaps")
async def test_authors_are_listed_once_and_dated_by_their_own_visible_posts(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ada = await make_user(session, username="ada")
    bob = await make_user(session, username="bob")
    await make_posts(session, ada, 1, start=datetime(2026, 3, 3, 9, 0, tzinfo=UTC))
    await make_posts(session, bob, 1, start=datetime(2026, 3, 5, 9, 0, tzinfo=UTC))
    session.add(
        Post(title="Later", content="x", user_id=ada.id, published_at=utcnow() + timedelta(days=3))
    )
    await session.commit()

    authors = [entry for entry in await entries(client) if "/users/" in entry[0]]

    assert [address for address, _ in authors] == [
        f"{SITE}/users/{ada.id}/posts",
        f"{SITE}/users/{bob.id}/posts",
    ]
    dates = {address: (lastmod or "")[:10] for address, lastmod in authors}
    assert dates[f"{SITE}/users/{ada.id}/posts"] == "2026-03-03"
    assert dates[f"{SITE}/users/{bob.id}/posts"] == "2026-03-05"
