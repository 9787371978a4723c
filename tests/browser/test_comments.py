"""Commenting in a real browser with JavaScript off: a refused comment shows why, a posted
one shows rendered on the post, the post's author sees a delete button for it, and its
author deletes it."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import SQLITE_ONLY, LiveServer
from tests.browser.test_accounts import flash, header, sign_up

pytestmark = [pytest.mark.browser, SQLITE_ONLY]

NO_JS = {"java_script_enabled": False}


def write_post(page: Page, title: str) -> str:
    header(page).get_by_role("link", name="New post").click()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Content").fill("A post to comment on.")
    page.get_by_role("button", name="Publish").click()
    expect(flash(page)).to_have_text("Your post is published.")
    return page.url


@pytest.mark.parametrize("browser_context_options", [NO_JS], ids=["no-js"])
def test_write_and_delete_a_comment_through_the_form(
    page: Page, browser: Browser, live_server: LiveServer
) -> None:
    writer = sign_up(page)
    post_url = write_post(page, f"Comments welcome {writer}")

    reader_context = browser.new_context(base_url=live_server.url, **NO_JS)  # type: ignore[arg-type]
    try:
        reader = reader_context.new_page()
        reader_name = sign_up(reader)
        reader.goto(post_url)
        comments = reader.get_by_role("region", name=re.compile("comments?$"))
        expect(comments).to_contain_text("No comments yet.")

        box = reader.get_by_label("Your comment")
        box.fill("   ")
        reader.get_by_role("button", name="Comment", exact=True).click()
        expect(reader.locator("#body-error")).to_have_text("Please enter a comment.")

        box = reader.get_by_label("Your comment")
        box.fill("Thanks, *that* helped: https://example.com")
        reader.get_by_role("button", name="Comment", exact=True).click()
        expect(flash(reader)).to_have_text("Your comment is posted.")
        expect(reader).to_have_url(re.compile(rf"{re.escape(post_url)}#comment-\d+$"))
        comment = reader.locator("article.comment")
        expect(comment).to_have_count(1)
        expect(comment.locator("em")).to_have_text("that")
        expect(comment.get_by_role("link", name="https://example.com")).to_have_attribute(
            "href", "https://example.com"
        )
        expect(comment).to_contain_text(reader_name)
        expect(reader.get_by_role("heading", name="1 comment")).to_be_visible()

        # The post's author may delete it too; the link names whose comment it is.
        page.goto(post_url)
        expect(
            page.get_by_role("link", name=f"Delete the comment by {reader_name}")
        ).to_be_visible()

        # Deleting asks first, as for a post; "Keep it" goes back with the comment kept.
        reader.get_by_role("link", name=f"Delete the comment by {reader_name}").click()
        expect(reader.get_by_role("heading", name="Delete this comment?")).to_be_visible()
        reader.get_by_role("link", name="Keep it").click()
        expect(reader.locator("article.comment")).to_have_count(1)
        reader.get_by_role("link", name=f"Delete the comment by {reader_name}").click()
        reader.get_by_role("button", name="Delete", exact=True).click()
        expect(flash(reader)).to_have_text("The comment is deleted.")
        expect(reader.locator("article.comment")).to_have_count(0)
        expect(reader.get_by_role("heading", name="0 comments")).to_be_visible()
    finally:
        reader_context.close()
