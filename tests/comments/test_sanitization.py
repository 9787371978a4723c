"""What a comment can put on a page: Markdown-lite only. Checked by parsing the HTML, in the
API's body_html and on the post page, never by searching strings."""

import httpx
import pytest

from fastblog.accounts.models import User
from fastblog.comments.markdown import ALLOWED_TAGS
from fastblog.posts.models import Post
from tests.comments.helpers import api_comment, parse

pytestmark = pytest.mark.anyio

HOSTILE = {
    "script": "<script>alert('x')</script>",
    "script_in_markdown_link": "[click](javascript:alert(1))",
    "raw_link": '<a href="javascript:alert(1)">click</a>',
    "image": "![tracker](https://evil.example/pixel.png)",
    "raw_image": '<img src="x" onerror="alert(1)">',
    "heading": "# Shouting\n\n## Still shouting",
    "data_url": "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "event_handler": '<p onclick="alert(1)">hi</p>',
    "style": "<style>body{display:none}</style>",
    "iframe": '<iframe src="https://evil.example"></iframe>',
    "autolink_js": "<javascript:alert(1)>",
}


def assert_harmless(html: str) -> None:
    markup = parse(html)
    assert set(markup.tags) <= ALLOWED_TAGS, markup.tags
    for tag, attributes in markup.attributes:
        assert not any(name.startswith("on") for name in attributes), (tag, attributes)
        assert set(attributes) <= {"href", "title", "rel"}, (tag, attributes)
    for href in markup.hrefs():
        assert href.startswith(("https://", "http://", "mailto:")), href


@pytest.mark.parametrize("name", HOSTILE)
async def test_hostile_comments_render_harmless(
    client: httpx.AsyncClient, post: Post, reader: User, name: str
) -> None:
    response = await api_comment(client, reader, post.id, HOSTILE[name])

    assert response.status_code == 201
    body_html = response.json()["body_html"]
    assert_harmless(body_html)
    markup = parse(body_html)
    assert not {"script", "img", "h1", "h2", "iframe", "style"} & set(markup.tags)
    # What was refused is shown as the text it was, not dropped silently (but for the link
    # a browser must never follow).
    if name in ("heading", "script", "raw_image"):
        assert HOSTILE[name].split("\n")[0] in markup.text


async def test_on_the_post_page_a_comment_holds_only_its_few_tags(
    client: httpx.AsyncClient, post: Post, reader: User
) -> None:
    for body in HOSTILE.values():
        assert (await api_comment(client, reader, post.id, body)).status_code == 201

    page = await client.get(f"/posts/{post.id}/{post.slug}")

    markup = parse(page.text)
    # The page's own scripts: the JSON-LD only; no image but the avatars and no iframe.
    scripts = [attrs for tag, attrs in markup.attributes if tag == "script"]
    assert scripts == [{"type": "application/ld+json"}]
    images = [attrs["src"] for tag, attrs in markup.attributes if tag == "img"]
    assert all(src == "/static/img/default-avatar.png" for src in images), images
    assert "iframe" not in markup.tags
    assert not [href for href in markup.hrefs() if href.lower().startswith(("javascript", "data"))]


async def test_markdown_lite_renders_what_it_allows(
    client: httpx.AsyncClient, post: Post, reader: User
) -> None:
    body = (
        "*so* **much** `code` [a link](https://example.com) and https://fastapi.tiangolo.com\n\nTwo"
    )

    html = (await api_comment(client, reader, post.id, body)).json()["body_html"]

    markup = parse(html)
    assert markup.tags.count("p") == 2
    assert {"em", "strong", "code", "a"} <= set(markup.tags)
    assert markup.hrefs() == ["https://example.com", "https://fastapi.tiangolo.com"]
    links = [attrs for tag, attrs in markup.attributes if tag == "a"]
    assert all(attrs["rel"] == "nofollow ugc noopener" for attrs in links)
