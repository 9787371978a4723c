"""What every page shares: the favicon, a skip link, unique ids (colours:
tests/web/test_contrast.py)."""

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path

import httpx
import pytest
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import make_posts, make_user
from tests.html import read_page
from tests.reliability.browser import browser_login

pytestmark = pytest.mark.anyio

STATIC = Path(__file__).resolve().parents[2] / "src" / "fastblog" / "static"


async def test_the_favicon_is_an_icon_of_our_own(client: httpx.AsyncClient) -> None:
    response = await client.get("/favicon.ico")

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/x-icon"
    assert "max-age" in response.headers["cache-control"]
    icon = Image.open(BytesIO(response.content))
    assert icon.format == "ICO"
    assert {(16, 16), (32, 32), (48, 48)} <= icon.info["sizes"]
    default_avatar = (STATIC / "img" / "default-avatar.png").read_bytes()
    assert response.content != default_avatar


async def test_pages_link_the_svg_favicon(client: httpx.AsyncClient) -> None:
    page = read_page(await client.get("/"))
    svg = page.head_link("icon", type="image/svg+xml")

    response = await client.get(svg["href"])

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(response.content)  # noqa: S314 - our own file
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert not [element for element in root.iter() if element.tag.endswith("script")]
    assert page.head_link("icon", href="/favicon.ico")


@pytest.mark.parametrize("path", ["/", "/login", "/register", "/no/such/page"])
async def test_the_first_thing_tab_reaches_is_a_skip_link(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    page = read_page(response)

    first = page.focusable[0]
    assert first["tag"] == "a"
    assert first["href"] == "#main"
    assert page.links[0].text == "Skip to content"
    assert re.search(r'<main id="main"[^>]*tabindex="-1"', response.text)


class Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.ids += [value or "" for name, value in attrs if name == "id"]


async def test_ids_are_unique_so_labels_and_the_skip_link_find_their_element(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """The skip link's target once shared its id with the post form's Content field, whose
    label then named the <main> element instead."""
    [post] = await make_posts(session, author := await make_user(session), 1)
    await browser_login(client, author)

    post_page = f"/posts/{post.id}/{post.slug}"
    for path in ("/", "/posts/new", post_page, f"/posts/{post.id}/edit", "/account"):
        parser = Ids()
        parser.feed((await client.get(path)).text)
        assert "main" in parser.ids, path
        assert len(parser.ids) == len(set(parser.ids)), (path, parser.ids)
