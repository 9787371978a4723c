"""The site's time zone: dates on pages and "Publish at" are in it, and pages say which; the
API stays UTC with offsets."""

from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.roles import Role
from fastblog.posts.models import Post
from tests.accounts import bearer, browser, browser_login, read_form, submit
from tests.factories import make_user
from tests.html import read_page

pytestmark = pytest.mark.anyio


async def in_paris(app: FastAPI, client: httpx.AsyncClient, session: AsyncSession) -> None:
    owner = await make_user(session, role=Role.OWNER)
    change = {"timezone": "Europe/Paris"}
    assert (await client.patch("/api/site", json=change, headers=bearer(app, owner))).is_success


async def test_dates_on_pages_are_the_sites_and_the_api_stays_utc(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await in_paris(app, client, session)
    author = await make_user(session)
    # Late on March 3 in UTC: already March 4 in Paris (UTC+1 in winter).
    late = datetime(2026, 3, 3, 23, 30, tzinfo=UTC)
    post = Post(title="Night train", content="Words.", user_id=author.id, published_at=late)
    session.add(post)
    await session.commit()

    home = read_page(await client.get("/"))
    detail = await client.get(f"/posts/{post.id}", follow_redirects=True)
    api = (await client.get(f"/api/posts/{post.id}")).json()

    assert "March 4, 2026" in home.text
    assert "March 3" not in home.text
    assert "Dates are in Europe/Paris time." in home.text
    assert "March 4, 2026" in read_page(detail).text
    assert 'title="March 4, 2026, 00:30 (Europe/Paris)"' in detail.text
    assert api["published_at"] in {"2026-03-03T23:30:00Z", "2026-03-03T23:30:00+00:00"}


async def test_publish_at_is_read_and_shown_in_the_sites_time_zone(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await in_paris(app, client, session)
    author = await make_user(session)
    async with browser(app) as ana:
        await browser_login(ana, author)
        form = read_page(await ana.get("/posts/new"))
        assert "Publish at (Europe/Paris time)" in form.text

        # July: Paris is UTC+2 (summer time).
        saved = await submit(
            ana,
            "/posts/new",
            {
                "title": "Summer",
                "content": "Later.",
                "tags": "",
                "published_at": "2099-07-01T10:00",
                "action": "publish",
            },
        )
        post_id = int(saved.headers["location"].split("/")[2])
        flashed = read_page(await ana.get("/drafts"))
        edit = read_form((await ana.get(f"/posts/{post_id}/edit")).text)
    api = (await client.get(f"/api/posts/{post_id}", headers=bearer(app, author))).json()

    assert api["published_at"] in {"2099-07-01T08:00:00Z", "2099-07-01T08:00:00+00:00"}
    assert "Your post is scheduled for 2099-07-01 10:00 (Europe/Paris)." in flashed.text
    assert "July 1, 2099, 10:00 (Europe/Paris)" in flashed.text
    assert edit.values["published_at"] == "2099-07-01T10:00"
