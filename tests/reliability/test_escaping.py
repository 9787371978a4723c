"""Everything user-written comes back inert: escaped text, never markup, script or template.

Posts (and a username) full of script tags, javascript: links, event handlers and template
syntax are shown on every page that shows them: the home page, the post, the author's page,
the edit form. (The Markdown renderer's own corpus of attacks: tests/posts/test_xss.py.)
The pages are parsed as a browser would: no script element, no event handler
attribute, no javascript: URL, and the template syntax shown as typed, not evaluated.
"""

import json
from html.parser import HTMLParser

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import api_create_post, make_user
from tests.reliability.browser import browser_login

pytestmark = pytest.mark.anyio

SCRIPT = "<script>alert('pwned')</script>"
LINK = '<a href="javascript:alert(1)">click me</a>'
HANDLER = '"><img src=x onerror="alert(2)">'
TEMPLATE = "{{ 7*7 }}-template {% if true %}jinja{% endif %} ${7*7} #{7*7}"
HOSTILE_TITLE = f"{SCRIPT}{TEMPLATE}"[:100]
HOSTILE_CONTENT = "\n".join([SCRIPT, LINK, HANDLER, TEMPLATE, "</textarea>" + SCRIPT])


# A script element of another type is a data block, which browsers never run (the post page's
# JSON-LD); it is checked for what could end it early instead.
DATA_BLOCK_TYPES = {"application/ld+json"}


class Markup(HTMLParser):
    """What in a page could run: script elements, event handlers, javascript: URLs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts = 0
        self.data_blocks: list[str] = []
        self._in_data_block = False
        self.handlers: list[str] = []
        self.js_urls: list[str] = []
        self.text: list[str] = []  # what the reader sees: text, and the values of form fields

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            if dict(attrs).get("type") in DATA_BLOCK_TYPES:
                self._in_data_block = True
                self.data_blocks.append("")
            elif (dict(attrs).get("src") or "").startswith("/static/js/"):
                pass  # the page's own file (the post form's editor.js), which the CSP allows
            else:
                self.scripts += 1
        for name, value in attrs:
            if name.startswith("on"):
                self.handlers.append(f"{tag} {name}={value}")
            if value and value.strip().lower().startswith("javascript:"):
                self.js_urls.append(f"{tag} {name}={value}")
            if tag == "input" and name == "value" and value:
                self.text.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_data_block = False

    def handle_data(self, data: str) -> None:
        if self._in_data_block:
            self.data_blocks[-1] += data
            return
        self.text.append(data)


def assert_inert(page: httpx.Response, *shown: str) -> None:
    assert page.status_code == 200, page.text
    markup = Markup()
    markup.feed(page.text)
    assert markup.scripts == 0
    assert markup.handlers == []
    assert markup.js_urls == []
    for block in markup.data_blocks:
        assert "<" not in block  # so nothing in it can close the element
        json.loads(block)
    text = "".join(markup.text)
    for typed in shown:
        assert typed in text  # shown to the reader exactly as typed...
        assert typed not in page.text  # ...because the page holds it escaped
    assert "49-template" not in text
    assert "jinja" not in text.replace("%}jinja{%", "")
    assert "<script>" not in page.text


async def test_hostile_posts_are_inert_on_every_page(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session, username="<b onmouseover=alert(3)>{{ 7*7 }}-template</b>")
    created = await api_create_post(client, author, title=HOSTILE_TITLE, content=HOSTILE_CONTENT)
    assert created.status_code == 201, created.text
    post_id = created.json()["id"]
    assert created.json()["content"] == HOSTILE_CONTENT  # the API returns the data as written

    post_page = f"/posts/{post_id}/{created.json()['slug']}"
    for path in ("/", "/posts", post_page, f"/users/{author.id}/posts"):
        assert_inert(await client.get(path), HOSTILE_TITLE, author.username)
    # The content is Markdown: rendered, with the raw HTML in it shown as text.
    assert_inert(await client.get(post_page), SCRIPT, LINK)

    await browser_login(client, author)
    edit_form = await client.get(f"/posts/{post_id}/edit")
    assert_inert(edit_form, HOSTILE_TITLE, HOSTILE_CONTENT)
    # Logged in, the header shows the username too, as do the account page and the flash.
    assert_inert(await client.get("/account"), author.username)
    assert_inert(await client.get(f"/posts/{post_id}/delete"), HOSTILE_TITLE)


async def test_a_hostile_form_comes_back_inert_when_it_has_errors(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """Refused input is put back in the form: escaped there too."""
    csrf = await browser_login(client, await make_user(session))
    form = {"title": "", "content": HOSTILE_CONTENT, "csrf_token": csrf}

    response = await client.post("/posts/new", data=form)

    assert response.status_code == 422
    markup = Markup()
    markup.feed(response.text)
    assert (markup.scripts, markup.handlers, markup.js_urls) == (0, [], [])
    assert HOSTILE_CONTENT in "".join(markup.text)
