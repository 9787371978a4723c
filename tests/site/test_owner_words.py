"""Every page shows the owner's words: title, description, navigation and footer from the
settings, escaped; the API is linked from the footer, not the main navigation."""

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.roles import Role
from tests.accounts import bearer
from tests.factories import make_user
from tests.html import read_page

pytestmark = pytest.mark.anyio


async def test_pages_show_the_settings_escaped(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    owner = await make_user(session, role=Role.OWNER)
    change = {
        "title": "Harbour <Notes>",
        "description": "Boats & code, weekly.",
        "footer": "© 2026 <b>Ana</b> Lima\nWritten by hand.",
        "navigation": [
            {"label": "Home", "url": "/"},
            {"label": "About", "url": "/about"},
            {"label": "Mastodon", "url": "https://example.social/@ana"},
        ],
    }
    assert (await client.patch("/api/site", json=change, headers=bearer(app, owner))).is_success

    for path in ("/", "/login", "/search?q=boats", "/no-such-page"):
        response = await client.get(path)
        page = read_page(response)
        assert page.title.endswith("· Harbour <Notes>"), (path, page.title)
        assert "<b>Ana</b>" not in response.text  # shown as written, never as markup
        assert "© 2026 <b>Ana</b> Lima Written by hand." in page.text, path
        assert page.link("About").path == "/about"
        assert page.link("Mastodon").href == "https://example.social/@ana"
        assert page.link("API").href == "/docs"  # in the footer only
    home = read_page(await client.get("/"))
    assert home.meta["description"] == "Boats & code, weekly."
    assert "async FastAPI" not in home.text
    nav_text = home.text.split("Search")[2].split("Log in")[0]  # the main navigation's links
    assert nav_text.split() == ["Home", "About", "Mastodon"]


async def test_posts_per_page_is_the_settings(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    from tests.factories import make_posts

    admin = await make_user(session, role=Role.ADMIN)
    await make_posts(session, admin, 5)
    await client.patch("/api/site", json={"posts_per_page": 2}, headers=bearer(app, admin))

    page = read_page(await client.get("/"))

    assert "Post 5 by" in page.text
    assert "Post 4 by" in page.text
    assert "Post 3 by" not in page.text
    assert "Page 1 of 3" in page.text
