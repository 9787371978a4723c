"""`fastblog media prune`: pictures no post (content or feature image) or page names are
deleted once the grace period is over; the ones in use, and the ones just uploaded for a post
not saved yet, stay."""

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.cli import _prune_media, main
from fastblog.db import utcnow
from fastblog.media.models import Media
from tests.accounts import bearer
from tests.asgi import resources_of
from tests.factories import api_create_post, make_user
from tests.media.helpers import photo, stored, upload

pytestmark = pytest.mark.anyio


async def test_prune_removes_only_old_pictures_nothing_uses(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    editor = await make_user(session, role="editor")
    pictures = []
    for n in range(5):
        response = await upload(app, client, author, photo((300 + n, 200)))
        pictures.append(response.json())
    in_post, in_page, unused, fresh, featured = pictures
    await api_create_post(client, author, content=f"Look:\n\n![x]({in_post['url']})")
    await api_create_post(client, author, feature_image=featured["url"])
    page = await client.post(
        "/api/pages",
        json={"title": "About", "slug": "about", "content": f"![me]({in_page['url']})"},
        headers=bearer(app, editor),
    )
    assert page.status_code == 201, page.text
    two_days_ago = utcnow() - timedelta(days=2)
    await session.execute(
        update(Media)
        .where(Media.key != fresh["url"].removeprefix("/media/"))
        .values(created_at=two_days_ago)
    )
    await session.commit()

    removed = await _prune_media(resources_of(app).settings, timedelta(hours=24))

    assert removed == [unused["url"].removeprefix("/media/")]
    for picture in (in_post, in_page, fresh, featured):
        assert (await client.get(picture["url"])).status_code == 200
        assert stored(app, picture["url"]).exists()
    for url in [unused["url"], *(source["url"] for source in unused["srcset"])]:
        assert not stored(app, url).exists()
        assert (await client.get(url)).status_code == 404


def test_the_grace_period_is_an_option_in_hours() -> None:
    with pytest.raises(SystemExit) as refused:
        main(["media", "prune", "--grace-hours", "soon"])

    assert refused.value.code == 2
