"""Static pages: written by editors and above through the API, served at /{slug} as Markdown
rendered and sanitized like posts, in the sitemap and (when chosen) the navigation, never in
lists or feeds."""

import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from fastblog.accounts.roles import Role
from tests.accounts import bearer
from tests.factories import api_create_post, make_user
from tests.html import read_page

pytestmark = pytest.mark.anyio

SLUG_MESSAGE = (
    "A slug is lowercase letters, digits and single hyphens (at most 80), such as about or "
    "contact-us."
)

ABOUT = {
    "title": "About this blog",
    "slug": "about",
    "content": "## Who writes here\n\nTwo sailors and a **compiler**.\n\n<script>alert(1)</script>",
}


async def editor(session: AsyncSession, role: Role = Role.EDITOR) -> User:
    return await make_user(session, role=role)


async def create(
    app: FastAPI, client: httpx.AsyncClient, user: User, **fields: Any
) -> httpx.Response:
    return await client.post("/api/pages", json={**ABOUT, **fields}, headers=bearer(app, user))


@pytest.mark.parametrize("role", [Role.EDITOR, Role.ADMIN, Role.OWNER])
async def test_an_editor_writes_a_page_served_at_its_slug(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, role: Role
) -> None:
    response = await create(app, client, await editor(session, role))

    assert response.status_code == 201, response.text
    assert response.json()["url"] == "/about"
    page = await client.get("/about")
    assert page.status_code == 200
    seen = read_page(page)
    assert seen.title.startswith("About this blog")
    assert "Who writes here Two sailors and a compiler ." in seen.text
    assert "<strong>compiler</strong>" in page.text
    # Shown as the text it is, never run: Markdown's raw HTML is escaped, as in posts.
    assert "<script>alert(1)</script>" in seen.text
    assert "<script>alert(1)</script>" not in page.text
    assert (await client.get("/api/pages/about")).json()["title"] == "About this blog"


async def test_a_pages_outline_starts_at_h2_under_its_title_and_it_is_its_own_canonical(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    content = "# Who\n\nUs.\n\n### Where\n\nHere.\n\n# When\n\nNow."
    await create(app, client, await editor(session), content=content)

    response = await client.get("/about")

    html = response.text
    assert "<h1" in html
    body = html[html.index('<div class="prose">') :]
    assert [body.count(f"<h{n}>") for n in range(1, 5)] == [0, 2, 1, 0]
    assert read_page(response).head_link("canonical")["href"] == "http://testserver/about"


@pytest.mark.parametrize("role", [Role.AUTHOR, Role.CONTRIBUTOR, Role.READER])
async def test_below_editor_is_refused_in_plain_words(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, role: Role
) -> None:
    response = await create(app, client, await editor(session, role))

    assert response.status_code == 403
    assert response.json() == {"detail": "Only an editor, an admin or the owner can write pages."}
    assert (await client.get("/about")).status_code == 404


async def test_anonymous_writes_are_401(client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/pages", json=ABOUT)).status_code == 401
    assert (await client.patch("/api/pages/about", json={"title": "x"})).status_code == 401
    assert (await client.delete("/api/pages/about")).status_code == 401


@pytest.mark.parametrize("slug", ["posts", "login", "docs", "api", "admin", "search", "feed"])
async def test_a_slug_the_site_uses_is_a_422(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, slug: str
) -> None:
    response = await create(app, client, await editor(session), slug=slug)

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "slug"]
    assert error["msg"] == f"/{slug} is an address of the site itself; choose another slug."


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"slug": "About Us"},
            "slug",
            SLUG_MESSAGE,
        ),
        (
            {"slug": "-about"},
            "slug",
            SLUG_MESSAGE,
        ),
        ({"title": "  "}, "title", "A page needs a title."),
        ({"content": " \n "}, "content", "A page needs some content, not only blanks."),
    ],
)
async def test_bad_fields_are_422s_naming_the_field(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    fields: dict[str, str],
    field: str,
    message: str,
) -> None:
    response = await create(app, client, await editor(session), **fields)

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["loc"], error["msg"]) == (["body", field], message)


async def test_a_taken_slug_is_a_422(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await editor(session)
    assert (await create(app, client, user)).status_code == 201

    again = await create(app, client, user, title="Another")
    [error] = again.json()["detail"]
    assert (again.status_code, error["loc"], error["msg"]) == (
        422,
        ["body", "slug"],
        "Another page already has this slug.",
    )


async def test_a_page_is_changed_renamed_and_deleted(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await editor(session)
    await create(app, client, user)
    headers = bearer(app, user)

    changed = await client.patch(
        "/api/pages/about",
        json={"slug": "colophon", "content": "Set in *Charter*."},
        headers=headers,
    )

    assert changed.status_code == 200, changed.text
    assert changed.json()["title"] == "About this blog"  # left out: unchanged
    assert (await client.get("/about")).status_code == 404
    assert "Set in Charter ." in read_page(await client.get("/colophon")).text
    renamed_onto_route = await client.patch(
        "/api/pages/colophon", json={"slug": "drafts"}, headers=headers
    )
    assert renamed_onto_route.status_code == 422
    assert (await client.delete("/api/pages/colophon", headers=headers)).status_code == 204
    assert (await client.get("/colophon")).status_code == 404
    assert (await client.get("/api/pages/colophon")).status_code == 404


async def test_a_page_is_in_the_sitemap_and_the_navigation_but_no_list_or_feed(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await editor(session, Role.ADMIN)
    await create(app, client, admin)
    await api_create_post(client, admin, title="A real post")
    navigation = [{"label": "Home", "url": "/"}, {"label": "About", "url": "/about"}]
    await client.patch("/api/site", json={"navigation": navigation}, headers=bearer(app, admin))

    sitemap = ET.fromstring((await client.get("/sitemap.xml")).content)  # noqa: S314 - ours
    locations = [
        loc.text for loc in sitemap.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")
    ]
    home = read_page(await client.get("/"))
    feed = (await client.get("/feed.xml")).text
    posts = (await client.get("/api/posts")).json()["posts"]

    assert "http://testserver/about" in locations
    assert home.link("About").path == "/about"
    assert "A real post" in home.text
    assert "About this blog" not in home.text
    assert "About this blog" not in feed
    assert [post["title"] for post in posts] == ["A real post"]


async def test_other_addresses_still_answer_as_before(client: httpx.AsyncClient) -> None:
    assert (await client.get("/no-such-page")).status_code == 404
    assert (await client.get("/docs")).status_code == 200
    assert (await client.get("/feed.xml")).status_code == 200
    assert (await client.get("/robots.txt")).status_code == 200
