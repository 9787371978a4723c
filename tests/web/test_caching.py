"""What a browser may keep and for how long: files under names that carry their digest kept for
a year, pages asked again (a 304 when unchanged), nothing kept of a logged-in page."""

from email.utils import formatdate
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.accounts import browser, browser_login
from tests.factories import make_posts, make_user
from tests.html import read_page

pytestmark = pytest.mark.anyio

STATIC = Path(__file__).resolve().parents[2] / "src" / "fastblog" / "static"
IMMUTABLE = "public, max-age=31536000, immutable"


async def test_pages_link_files_by_digest_kept_for_a_year(client: httpx.AsyncClient) -> None:
    page = read_page(await client.get("/"))
    stylesheets = page.stylesheets
    icon = page.head_link("icon", type="image/svg+xml")["href"]
    assert len(stylesheets) == 2

    for url, file in [*zip(stylesheets, ["main.css", "code.css"], strict=True), (icon, None)]:
        response = await client.get(url)
        assert response.status_code == 200
        assert response.headers["cache-control"] == IMMUTABLE
        if file is not None:
            assert url.startswith("/static/css/main.") or url.startswith("/static/css/code.")
            assert url != f"/static/css/{file}"
    main_css = next(url for url in stylesheets if "/main." in url)
    served = await client.get(main_css)
    assert served.content == (STATIC / "css" / "main.css").read_bytes()
    assert served.headers["content-type"].startswith("text/css")


async def test_the_plain_name_still_works_asked_again_each_time(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/static/css/main.css")

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"
    assert response.content == (STATIC / "css" / "main.css").read_bytes()
    again = await client.get(
        "/static/css/main.css", headers={"If-None-Match": response.headers["etag"]}
    )
    assert again.status_code == 304


async def test_a_replaced_digest_gets_todays_file_not_to_be_kept(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/static/css/main.0123456789ab.css")

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"
    assert response.content == (STATIC / "css" / "main.css").read_bytes()
    assert (await client.get("/static/css/nothing.0123456789ab.css")).status_code == 404


async def test_the_favicon_answers_conditional_requests(client: httpx.AsyncClient) -> None:
    first = await client.get("/favicon.ico")
    assert first.status_code == 200
    assert first.headers["content-type"] == "image/x-icon"

    by_tag = await client.get("/favicon.ico", headers={"If-None-Match": first.headers["etag"]})
    by_date = await client.get(
        "/favicon.ico", headers={"If-Modified-Since": first.headers["last-modified"]}
    )
    stale = await client.get(
        "/favicon.ico", headers={"If-Modified-Since": formatdate(0, usegmt=True)}
    )

    for response in (by_tag, by_date):
        assert response.status_code == 304
        assert response.content == b""
        assert response.headers["etag"] == first.headers["etag"]
        assert "max-age" in response.headers["cache-control"]
    assert stale.status_code == 200
    assert stale.content == first.content


async def test_an_anonymous_page_revalidates_with_its_etag(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session, username="author")
    await make_posts(session, author, 3)
    first = await client.get("/")
    assert first.status_code == 200
    assert first.headers["cache-control"] == "no-cache"
    etag = first.headers["etag"]

    again = await client.get("/", headers={"If-None-Match": etag})

    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert "Accept-Encoding" in again.headers["vary"]

    await make_posts(session, author, 1)
    changed = await client.get("/", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert "Post 1 by author" in read_page(changed).text


async def test_a_page_with_a_form_is_private_to_its_browser(client: httpx.AsyncClient) -> None:
    response = await client.get("/login")

    assert response.status_code == 200
    assert response.headers["cache-control"] == "private, no-cache"
    assert "etag" in response.headers


async def test_nothing_is_kept_of_a_logged_in_page(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session, username="writer")
    await make_posts(session, user, 1)
    async with browser(app) as logged_in:
        await browser_login(logged_in, user)
        for path in ("/", "/account", "/no/such/page"):
            response = await logged_in.get(path)
            assert response.headers["cache-control"] == "private, no-store", path
            assert "etag" not in response.headers
            assert "writer" in read_page(response).text
