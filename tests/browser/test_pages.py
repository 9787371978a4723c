"""Pages in a real browser: a post's share card and feed link, the narrow-screen navigation,
the skip link."""

import itertools
import re

import feedparser
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from fastblog.posts.markdown import slug_of
from tests.browser.conftest import ACTION_TIMEOUT_MS, SQLITE_ONLY, LiveServer
from tests.browser.test_accounts import HEADER_BACKGROUND, flash, header, sign_up, unique

pytestmark = [pytest.mark.browser, SQLITE_ONLY]

PHONE = {"width": 390, "height": 844}


def write_post(page: Page, title: str, content: str) -> str:
    """Publish a post as the logged-in user; returns its path (its canonical one, with its slug,
    where publishing lands)."""
    page.goto("/posts/new")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Content").fill(content)
    page.get_by_role("button", name="Publish").click()
    expect(flash(page)).to_have_text("Your post is published.")
    path = re.sub(r"^https?://[^/]+", "", page.url)
    assert re.fullmatch(rf"/posts/\d+/{re.escape(slug_of(title))}", path), path
    return path


def meta(page: Page, key: str) -> str:
    attribute = "property" if key.startswith(("og:", "article:")) else "name"
    element = page.locator(f'head meta[{attribute}="{key}"]')
    expect(element).to_have_count(1)
    return element.get_attribute("content") or ""


def test_a_post_has_its_share_card_and_feed_link(page: Page, live_server: LiveServer) -> None:
    username = sign_up(page)
    title = unique("Share me")
    path = write_post(page, title, "A first paragraph worth sharing.\n\nAnd a second one.")

    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page).to_have_title(f"{title} · fastblog")
    url = live_server.url + path
    assert page.locator('head link[rel="canonical"]').get_attribute("href") == url
    assert meta(page, "og:type") == "article"
    assert meta(page, "og:title") == title
    assert meta(page, "og:url") == url
    # The description is the excerpt: the first paragraph.
    assert meta(page, "og:description") == "A first paragraph worth sharing."
    assert meta(page, "twitter:card") == "summary"
    assert meta(page, "description") == meta(page, "og:description")
    json_ld = page.locator('script[type="application/ld+json"]')
    posting = json_ld.evaluate("script => JSON.parse(script.textContent)")
    assert posting["@type"] == "BlogPosting"
    assert posting["headline"] == title
    assert posting["author"]["name"] == username

    feeds = page.locator('head link[rel="alternate"][type="application/atom+xml"]')
    expect(feeds).to_have_count(2)  # the site's and the author's
    hrefs = [feeds.nth(n).get_attribute("href") or "" for n in range(2)]
    assert hrefs[0] == "/feed.xml"
    for href in hrefs:
        response = page.request.get(href)
        assert response.ok, href
        feed = feedparser.parse(response.body())
        assert not feed.bozo, (href, feed.get("bozo_exception"))
        assert title in [entry.title for entry in feed.entries], href


def nav_items(page: Page) -> Locator:
    return header(page).locator(".nav-links > li")


def boxes(items: Locator) -> list[dict[str, float]]:
    found = []
    for n in range(items.count()):
        box = items.nth(n).bounding_box()
        assert box is not None, f"nav item {n} is not shown"
        found.append(box)
    return found


def assert_one_row_within(page: Page, width: int) -> None:
    items = nav_items(page)
    found = boxes(items)
    tops = {round(box["y"] + box["height"] / 2) for box in found}
    assert max(tops) - min(tops) <= 2, f"nav items on more than one row: {found}"
    assert all(box["x"] >= 0 and box["x"] + box["width"] <= width for box in found), found
    ordered = sorted(found, key=lambda box: box["x"])
    for left, right in itertools.pairwise(ordered):
        assert left["x"] + left["width"] <= right["x"] + 0.5, f"nav items overlap: {found}"
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"the page scrolls sideways: {scroll_width} px"


@pytest.mark.parametrize("width", [PHONE["width"], 320])
def test_the_navigation_fits_a_phone(browser: Browser, live_server: LiveServer, width: int) -> None:
    """At 390 px, and at 320 px (the narrowest phones, and a 1280 px screen zoomed to 400%,
    which WCAG's reflow rule asks for), the links share one row: "Log out" is never left
    alone on a second one, and nothing goes past the edge."""
    viewport = {"width": width, "height": PHONE["height"]}
    context = browser.new_context(base_url=live_server.url, viewport=viewport)  # type: ignore[arg-type]
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto("/")
        assert_one_row_within(page, width)

        # The longest name the form allows is cut short rather than pushing items down.
        username = unique("a-very-long-username-for-a-phone")[:50]
        page.goto("/register")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Email").fill(f"{unique('phone')}@example.com")
        page.get_by_label("Password").fill("correct horse battery")
        page.get_by_role("button", name="Register").click()
        expect(flash(page)).to_contain_text("Welcome")

        # Home, Feed, Notifications, New post, Drafts, user, Log out
        expect(nav_items(page)).to_have_count(7)
        assert_one_row_within(page, width)
        log_out = header(page).get_by_role("button", name="Log out")
        expect(log_out).to_be_in_viewport()
        avatar = header(page).locator(".nav-user img").bounding_box()
        button = log_out.bounding_box()
        assert avatar is not None
        assert button is not None
        assert avatar["x"] + avatar["width"] <= button["x"], "the avatar covers Log out"
        expect(header(page).get_by_role("link", name=username)).to_be_visible()
        log_out.click()
        expect(flash(page)).to_have_text("You are logged out.")
    finally:
        context.close()


def test_the_skip_link_is_the_first_stop_and_jumps_to_the_content(page: Page) -> None:
    page.goto("/login")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).not_to_be_in_viewport()  # out of sight until it is needed

    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"#main$"))
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Email")).to_be_focused()  # the form, past the navigation


# What a Markdown renderer produces (markdown-it-py / mistune with GitHub's extensions), with
# the longest line, widest table and largest image a post may hold.
MARKDOWN_HTML = """
<h2>A heading</h2>
<p>A paragraph with <strong>bold</strong>, <em>emphasis</em>, <code>inline code</code> and
<a href="/">a link</a>.</p>
<ul><li>one</li><li>two<ul><li>nested</li></ul></li></ul>
<ol><li>first</li><li>second</li></ol>
<blockquote><p>A quotation.</p></blockquote>
<pre><code class="language-python">def f(x):
    if x:
        return "a very long line that goes on and on and on and on and on and on and on and on"
</code></pre>
<table><thead><tr><th>a</th><th>b</th><th>c</th><th>d</th><th>e</th><th>f</th></tr></thead>
<tbody><tr><td>supercalifragilistic</td><td>supercalifragilistic</td><td>supercalifragilistic</td>
<td>supercalifragilistic</td><td>supercalifragilistic</td><td>supercalifragilistic</td></tr>
</tbody></table>
<p><img src="/static/img/default-avatar.png" alt="A picture" width="2000" height="2000"></p>
<hr>
"""


@pytest.mark.parametrize("width", [1024, 390])
def test_markdown_typography_keeps_code_and_stays_in_the_column(
    browser: Browser, live_server: LiveServer, width: int
) -> None:
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": width, "height": 800},
    )
    try:
        page = context.new_page()
        page.goto("/")  # the site's origin and stylesheet, then an article's markup
        page.evaluate(
            """html => { document.querySelector("main").innerHTML =
                `<article class="article"><div class="prose">${html}</div></article>`; }""",
            MARKDOWN_HTML,
        )
        prose = page.locator(".prose")
        column = prose.bounding_box()
        assert column is not None
        font_size = float(prose.evaluate("e => getComputedStyle(e).fontSize")[:-2])
        assert column["width"] <= 70 * font_size  # a reading column, not the whole screen

        code = prose.locator("pre code")
        assert '\n    if x:\n        return "a very' in code.inner_text()
        assert code.evaluate("e => getComputedStyle(e.parentElement).whiteSpace") == "pre"
        assert prose.locator("pre").evaluate("e => getComputedStyle(e).overflowX") == "auto"
        for selector in ("pre", "table", "img", "h2", "blockquote", "ul"):
            box = prose.locator(selector).first.bounding_box()
            assert box is not None, selector
            assert box["x"] + box["width"] <= column["x"] + column["width"] + 1, selector
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width, "the page scrolls sideways"

        h2_size = prose.locator("h2").evaluate("e => getComputedStyle(e).fontSize")
        assert float(h2_size[:-2]) > font_size
        quote = prose.locator("blockquote")
        assert quote.evaluate("e => getComputedStyle(e).borderLeftStyle") == "solid"
        assert (
            prose.locator("ul").first.evaluate("e => getComputedStyle(e).listStyleType") == "disc"
        )
        assert prose.locator("ol").evaluate("e => getComputedStyle(e).listStyleType") == "decimal"
        cell = prose.locator("td").first
        assert cell.evaluate("e => getComputedStyle(e).borderTopStyle") == "solid"
    finally:
        context.close()


def test_chromium_gets_compressed_pages_and_keeps_the_stylesheet(page: Page) -> None:
    """Through the real server: Chromium asks for br, decodes the page and its stylesheet (the
    header is styled), and the stylesheet's hashed name is kept for a year."""
    responses: dict[str, dict[str, str]] = {}
    page.on("response", lambda response: responses.setdefault(response.url, response.all_headers()))

    document = page.goto("/", wait_until="load")

    assert document is not None
    headers = document.all_headers()
    assert headers["content-encoding"] == "br"
    assert "accept-encoding" in headers["vary"].lower()
    assert headers["cache-control"] == "no-cache"
    expect(page.locator(".site-header")).to_have_css("background-color", HEADER_BACKGROUND)
    stylesheet = next(url for url in responses if re.search(r"/static/css/main\.\w{12}\.css$", url))
    assert responses[stylesheet]["content-encoding"] == "br"
    assert responses[stylesheet]["cache-control"] == "public, max-age=31536000, immutable"
