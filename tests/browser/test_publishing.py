"""Publishing in a real browser: a Markdown post with a code block and a tag, saved as a draft
(which another browser cannot see), previewed, published, then found on its tag's page. The
writer's browser runs without JavaScript: every step is a plain form."""

import re
import uuid

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LiveServer
from tests.browser.test_accounts import flash, header, sign_up

pytestmark = pytest.mark.browser

CONTENT = """Some **bold** words before the code.

```python
def greet(name):
    return f"Hello, {name}"
```

And a [link](https://example.com) after it.
"""


@pytest.mark.parametrize("browser_context_options", [{"java_script_enabled": False}], ids=["no-js"])
def test_draft_preview_publish_and_find_it_by_tag(
    page: Page, browser: Browser, live_server: LiveServer
) -> None:
    sign_up(page)
    tag = f"bt-{uuid.uuid4().hex[:8]}"
    title = f"Markdown in a browser {tag}"

    header(page).get_by_role("link", name="New post").click()
    expect(page.get_by_role("main")).to_contain_text("Markdown works")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Content").fill(CONTENT)
    page.get_by_label("Tags").fill(tag.upper())

    page.get_by_role("button", name="Preview").click()
    # The page opens on the preview (below the form), not at the top of the form again.
    expect(page).to_have_url(re.compile(r"/posts/new#preview$"))
    expect(page.get_by_role("heading", name="Preview")).to_be_in_viewport()
    preview = page.locator(".preview")
    expect(preview.locator("strong")).to_have_text("bold")
    expect(preview.locator("pre.highlight")).to_contain_text('    return f"Hello, {name}"')
    expect(page.get_by_label("Title")).to_have_value(title)  # nothing lost, nothing saved

    page.get_by_role("button", name="Save as draft").click()
    expect(flash(page)).to_have_text(
        "Your draft is saved. Only you and the site's editors can see it."
    )
    expect(page).to_have_url(re.compile(r"/posts/\d+/markdown-in-a-browser-bt-[0-9a-f]+$"))
    post_url = page.url
    code = page.locator(".prose pre.highlight")
    expect(code).to_contain_text('    return f"Hello, {name}"')  # indentation kept
    expect(code.locator("span.k").first).to_have_text("def")  # Pygments' classes
    expect(page.get_by_role("link", name=f"#{tag}")).to_be_visible()
    header(page).get_by_role("link", name="Drafts").click()
    expect(page.get_by_role("link", name=title)).to_be_visible()

    stranger = browser.new_context(base_url=live_server.url)
    try:
        other = stranger.new_page()
        assert other.goto(post_url).status == 404  # type: ignore[union-attr]
        expect(other.get_by_role("main")).not_to_contain_text(title)
        assert other.goto(f"/tags/{tag}").status == 404  # type: ignore[union-attr]
        other.goto("/")
        expect(other.get_by_text(title)).to_have_count(0)

        page.get_by_role("link", name=title).click()
        page.get_by_role("link", name="Edit").click()
        expect(page.get_by_label("Tags")).to_have_value(tag)
        page.get_by_role("button", name="Publish").click()
        expect(flash(page)).to_have_text("Your post is published.")

        other.goto("/")
        other.get_by_role("link", name=f"#{tag}").first.click()
        expect(other).to_have_url(re.compile(f"/tags/{tag}$"))
        expect(other.get_by_role("heading", name=f"Posts tagged “{tag}”")).to_be_visible()
        other.get_by_role("link", name=title, exact=True).click()
        expect(other).to_have_url(post_url)
        expect(other.locator(".prose pre.highlight")).to_contain_text("def greet(name):")
        link = other.get_by_role("link", name="link", exact=True)
        expect(link).to_have_attribute("rel", "nofollow ugc noopener")
    finally:
        stranger.close()
