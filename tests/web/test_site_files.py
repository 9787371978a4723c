"""What every page shares: the favicon, a skip link, and colours people can read."""

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


# -- contrast, computed from the stylesheet itself (WCAG 2.x relative luminance) ----------------

CSS = (STATIC / "css" / "main.css").read_text()
AA = 4.5


def variables() -> dict[str, str]:
    root = re.search(r":root\s*\{(.*?)\}", CSS, re.DOTALL)
    assert root
    return dict(re.findall(r"(--[\w-]+):\s*(#[0-9a-fA-F]{6})\s*;", root.group(1)))


def rule(selector: str) -> str:
    found = re.search(rf"(?:^|\n|\}})\s*{re.escape(selector)}\s*\{{([^}}]*)\}}", CSS)
    assert found, selector
    return found.group(1)


def colour(value: str) -> str:
    value = value.strip()
    if value.startswith("var("):
        return variables()[value[4:-1].strip()]
    if re.fullmatch(r"#[0-9a-fA-F]{3}", value):
        value = "#" + "".join(digit * 2 for digit in value[1:])
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", value), value
    return value


def declared(selector: str, property_name: str) -> str:
    found = re.search(rf"(?:^|;|\{{)\s*{property_name}\s*:\s*([^;]+)", rule(selector))
    assert found, (selector, property_name)
    return colour(found.group(1))


def luminance(hex_colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_formula() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#2f6fdf", "#f5f7fa") == pytest.approx(4.39, abs=0.01)  # the old link colour


@pytest.mark.parametrize(
    ("what", "foreground", "background"),
    [
        ("links on the page", ("a", "color"), "--bg"),
        ("links on a post or card", ("a", "color"), "--card"),
        ("text", (":root", "color"), "--bg"),
        ("muted text", (".muted", "color"), "--bg"),
        ("muted text on a card", (".muted", "color"), "--card"),
        ("button text", (".button, button", "color"), "--accent"),
        ("header links", (".nav-links a, .nav-links button.link", "color"), "--header"),
        ("the skip link", (".skip-link", "color"), "--card"),
    ],
)
def test_text_meets_wcag_aa(what: str, foreground: tuple[str, str], background: str) -> None:
    header = declared(".site-header", "background")
    backgrounds = {**variables(), "--header": header}
    ratio = contrast(declared(*foreground), backgrounds[background])
    assert ratio >= AA, f"{what}: {ratio:.2f}:1"


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

    for path in ("/", "/posts/new", f"/posts/{post.id}", f"/posts/{post.id}/edit", "/account"):
        parser = Ids()
        parser.feed((await client.get(path)).text)
        assert "main" in parser.ids, path
        assert len(parser.ids) == len(set(parser.ids)), (path, parser.ids)
