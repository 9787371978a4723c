"""Searching from the header's box in a real browser, without JavaScript: a form like any
other, on any page, on a desktop and on a phone."""

import re
import uuid

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ACTION_TIMEOUT_MS, LiveServer
from tests.browser.test_accounts import header, sign_up, unique
from tests.browser.test_pages import PHONE, assert_one_row_within, write_post

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("browser_context_options", [{"java_script_enabled": False}], ids=["no-js"])
def test_search_from_the_header_box(page: Page, live_server: LiveServer) -> None:
    sign_up(page)
    # One word of letters only, unique to this run (both databases stem it the same way).
    word = "kumquat" + "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:8])
    title = f"Candied {word} <em>"
    write_post(page, title, f"Slice the {word}s thin, then <b>simmer</b> them.")
    write_post(page, unique("Other post"), "Nothing to find here.")

    box = header(page).get_by_role("search").get_by_label("Search posts")
    box.fill(word)
    box.press("Enter")

    expect(page).to_have_url(re.compile(rf"/search\?q={word}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Results for “{word}”")
    result = page.get_by_role("link", name=title, exact=True)
    expect(result).to_be_visible()
    snippet = page.locator(".snippet")
    expect(snippet).to_have_count(1)
    expect(snippet).to_contain_text("then <b>simmer</b> them")  # shown as text, not markup
    expect(snippet.locator("mark")).to_have_text([f"{word}s"])
    expect(snippet.locator("b")).to_have_count(0)
    expect(box).to_have_value(word)

    # Nothing found: a suggestion that finds something.
    box.fill(f'"{word}s slice"')
    header(page).get_by_role("button", name="Search").click()
    expect(page.get_by_role("main")).to_contain_text("No results")
    page.get_by_role("link", name=f"{word}s slice").click()
    expect(page.get_by_role("link", name=title, exact=True)).to_be_visible()

    result = page.get_by_role("link", name=title, exact=True)
    result.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)


def test_the_search_box_fits_a_phone(browser: Browser, live_server: LiveServer) -> None:
    context = browser.new_context(base_url=live_server.url, viewport=PHONE)  # type: ignore[arg-type]
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto("/")
        box = header(page).get_by_label("Search posts")
        expect(box).to_be_in_viewport()
        assert_one_row_within(page, PHONE["width"])
        box.fill("anything")
        box.press("Enter")
        expect(page).to_have_url(re.compile(r"/search\?q=anything$"))
        assert_one_row_within(page, PHONE["width"])
    finally:
        context.close()
