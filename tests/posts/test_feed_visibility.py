"""What a feed reader may see: published posts whose moment has come, never a draft or a
scheduled post, in the site's, an author's and a tag's feed alike."""

from datetime import UTC, datetime, timedelta

import feedparser
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import api_created_post, make_user

pytestmark = pytest.mark.anyio


async def titles(client: httpx.AsyncClient, path: str) -> list[str]:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    return [entry.title for entry in feed.entries]


async def test_drafts_and_scheduled_posts_are_in_no_feed(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ada = await make_user(session, username="ada")
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    await api_created_post(client, ada, title="Out now", tags=["garden"])
    await api_created_post(client, ada, title="Secret draft", status="draft", tags=["garden"])
    await api_created_post(client, ada, title="Not yet", published_at=tomorrow, tags=["garden"])

    assert await titles(client, "/feed.xml") == ["Out now"]
    assert await titles(client, f"/users/{ada.id}/feed.xml") == ["Out now"]
    assert await titles(client, "/tags/garden/feed.xml") == ["Out now"]


async def test_a_tag_only_on_unpublished_posts_has_no_feed(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ada = await make_user(session, username="ada")
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    await api_created_post(client, ada, title="Secret draft", status="draft", tags=["plans"])
    await api_created_post(client, ada, title="Not yet", published_at=tomorrow, tags=["plans"])

    assert (await client.get("/tags/plans/feed.xml")).status_code == 404
    # The author exists, so their feed is there, and empty.
    assert await titles(client, f"/users/{ada.id}/feed.xml") == []


async def test_a_tags_feed_has_only_posts_with_that_tag(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ada = await make_user(session, username="ada")
    await api_created_post(client, ada, title="Roses", tags=["garden"])
    await api_created_post(client, ada, title="Pistons", tags=["engines"])
    await api_created_post(client, ada, title="No tags at all")

    assert await titles(client, "/tags/garden/feed.xml") == ["Roses"]
    assert await titles(client, "/tags/engines/feed.xml") == ["Pistons"]
