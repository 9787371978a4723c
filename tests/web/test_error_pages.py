"""Error pages are pages of the site: a logged-in reader still sees who they are."""

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import make_user
from tests.html import read_page
from tests.reliability.browser import browser_login

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/no-such-page", 404),  # no route at all: no route dependency ran
        ("/a/b/c/d", 404),
        ("/?page=0", 422),  # refused before the route's dependencies
        ("/users/abc/posts", 422),
        ("/account", 405),  # a method no route has (sent below as DELETE)
    ],
)
async def test_an_error_page_keeps_the_logged_in_header(
    client: httpx.AsyncClient, session: AsyncSession, path: str, status: int
) -> None:
    await browser_login(client, await make_user(session, username="ada"))

    method = "DELETE" if status == 405 else "GET"
    response = await client.request(method, path)

    assert response.status_code == status
    page = read_page(response)
    assert page.link("ada").path == "/account"
    assert "Log out" in page.text
    assert not page.has_link("Log in")


async def test_an_error_page_for_a_visitor_offers_to_log_in(client: httpx.AsyncClient) -> None:
    response = await client.get("/no-such-page")

    assert response.status_code == 404
    page = read_page(response)
    assert page.link("Log in").path == "/login"
    assert "Log out" not in page.text
