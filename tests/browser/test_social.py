"""Following an author, reading the feed and liking a post in a real browser, with JavaScript
off: every button is a plain form that comes back to the page it was on."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import SQLITE_ONLY, LiveServer
from tests.browser.test_accounts import header, sign_up

pytestmark = [pytest.mark.browser, SQLITE_ONLY]

NO_JS = [{"java_script_enabled": False}]


def write_a_post(browser: Browser, live_server: LiveServer) -> tuple[str, str]:
    """Another person signs up and publishes a post; their name and the post's title."""
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        author = sign_up(page)
        title = f"News from {author}"
        header(page).get_by_role("link", name="New post").click()
        page.get_by_label("Title").fill(title)
        page.get_by_label("Content").fill("Something worth following.")
        page.get_by_role("button", name="Publish").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(title)
        return author, title
    finally:
        context.close()


@pytest.mark.parametrize("browser_context_options", NO_JS, ids=["no-js"])
def test_follow_an_author_read_the_feed_and_like_a_post(
    page: Page, browser: Browser, live_server: LiveServer
) -> None:
    author, title = write_a_post(browser, live_server)
    sign_up(page)

    header(page).get_by_role("link", name="Feed").click()
    expect(page.get_by_role("heading", name="Nothing to read yet")).to_be_visible()

    page.goto("/")
    page.get_by_role("article").filter(has_text=title).get_by_role(
        "link", name=author, exact=True
    ).click()
    expect(page.locator(".follower-count")).to_have_text("0 followers")
    page.get_by_role("button", name=f"Follow {author}").click()
    expect(page).to_have_url(re.compile(r"/users/\d+/posts$"))
    expect(page.locator(".follower-count")).to_have_text("1 follower")
    expect(page.get_by_role("button", name=f"Unfollow {author}")).to_be_visible()

    header(page).get_by_role("link", name="Feed").click()
    expect(page.get_by_role("heading", name="Your feed")).to_be_visible()
    page.get_by_role("link", name=title, exact=True).click()

    likes = page.locator("#likes")
    expect(likes.locator(".like-count")).to_have_text("0 likes")
    likes.get_by_role("button", name="Like").click()
    expect(page).to_have_url(re.compile(r"/posts/\d+/[\w-]+#likes$"))
    expect(likes.locator(".like-count")).to_have_text("1 like")
    expect(likes.get_by_role("button", name="Unlike")).to_be_visible()
    likes.get_by_role("button", name="Unlike").click()
    expect(likes.locator(".like-count")).to_have_text("0 likes")
