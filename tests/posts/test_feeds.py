"""Atom feeds, read as a feed reader reads them (feedparser): valid, complete, and inert."""

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import feedparser
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.config import Settings
from fastblog.posts.models import Post
from tests.apps import create_app
from tests.asgi import asgi_transport, started
from tests.conftest import make_settings
from tests.factories import login, make_posts, make_user
from tests.html import read_page

pytestmark = pytest.mark.anyio

START = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


async def read_feed(client: httpx.AsyncClient, path: str) -> Any:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return feed


async def test_the_site_feed_has_the_20_latest_posts_in_full(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ada = await make_user(session, username="ada")
    posts = await make_posts(session, ada, 25)

    feed = await read_feed(client, "/feed.xml")

    assert feed.feed.title == "fastblog"
    assert feed.feed.id == "http://testserver/feed.xml"
    links = {link.rel: link.href for link in feed.feed.links}
    assert links == {"self": "http://testserver/feed.xml", "alternate": "http://testserver/"}
    newest_first = list(reversed(posts))[:20]
    assert [entry.title for entry in feed.entries] == [post.title for post in newest_first]
    entry, post = feed.entries[0], newest_first[0]
    # The id is a tag: URI that never changes (RFC 4151); the link is the post's page.
    assert entry.id == f"tag:testserver,2026-03-03:/posts/{post.id}"
    assert entry.link == f"http://testserver/posts/{post.id}/{post.slug}"
    assert post.slug == "post-25-by-ada"
    assert entry.author == "ada"
    assert entry.author_detail.href == f"http://testserver/users/{ada.id}/posts"
    assert entry.published_parsed[:5] == (2026, 3, 3, 9, 25)
    assert entry.updated == entry.published
    assert feed.feed.updated == entry.updated
    assert entry.content[0].type == "text/html"
    assert entry.content[0].value == f"<p>{post.content}</p>"


ATOM = "{http://www.w3.org/2005/Atom}"
Node = tuple[str, dict[str, str], str, list[Any]]


def tree(element: ET.Element) -> Node:
    """An element as (name, attributes, text, children), names in Clark notation."""
    return (
        element.tag,
        element.attrib,
        (element.text or "").strip(),
        [tree(child) for child in element],
    )


def atom(name: str, text: str = "", children: list[Any] | None = None, **attributes: str) -> Node:
    return (ATOM + name, attributes, text, children or [])


async def test_a_strict_xml_reader_finds_every_atom_element(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """XML names are case-sensitive and Atom's are namespaced; feedparser forgives an
    `<ENTRY>` or a link without rel, stricter readers do not. The whole document, as XML."""
    ada = await make_user(session, username="ada")
    [post] = await make_posts(session, ada, 1)
    post.updated_at = START + timedelta(days=2)  # edited after: `updated` is the later date
    await session.commit()

    response = await client.get("/feed.xml")
    root = ET.fromstring(response.content)  # noqa: S314 - the app under test wrote it

    at = f"http://testserver/posts/{post.id}/{post.slug}"
    entry = atom(
        "entry",
        children=[
            atom("id", f"tag:testserver,2026-03-03:/posts/{post.id}"),
            atom("title", "Post 1 by ada"),
            atom("link", rel="alternate", type="text/html", href=at),
            atom("published", "2026-03-03T09:01:00+00:00"),
            atom("updated", "2026-03-05T09:00:00+00:00"),
            atom(
                "author",
                children=[
                    atom("name", "ada"),
                    atom("uri", f"http://testserver/users/{ada.id}/posts"),
                ],
            ),
            atom("content", "<p>Body of post 1.</p>", type="html"),
        ],
    )
    assert tree(root) == atom(
        "feed",
        children=[
            atom("id", "http://testserver/feed.xml"),
            atom("title", "fastblog"),
            atom("subtitle", "The latest posts"),
            atom("updated", "2026-03-05T09:00:00+00:00"),
            atom(
                "link", rel="self", type="application/atom+xml", href="http://testserver/feed.xml"
            ),
            atom("link", rel="alternate", type="text/html", href="http://testserver/"),
            atom("generator", "fastblog"),
            atom("icon", "http://testserver/favicon.ico"),
            entry,
        ],
    )


async def test_an_empty_site_still_has_a_valid_feed(client: httpx.AsyncClient) -> None:
    feed = await read_feed(client, "/feed.xml")

    assert feed.entries == []
    assert feed.feed.updated_parsed is not None


async def test_an_authors_feed_has_only_their_posts(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ada = await make_user(session, username="ada")
    bob = await make_user(session, username="bob")
    await make_posts(session, ada, 3)
    await make_posts(session, bob, 2, start=START + timedelta(hours=1))

    feed = await read_feed(client, f"/users/{ada.id}/feed.xml")

    assert feed.feed.title == "Posts by ada · fastblog"
    assert feed.feed.id == f"http://testserver/users/{ada.id}/feed.xml"
    assert feed.feed.link == f"http://testserver/users/{ada.id}/posts"
    assert [entry.title for entry in feed.entries] == [f"Post {n} by ada" for n in (3, 2, 1)]


async def test_an_author_without_posts_has_an_empty_feed(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ada = await make_user(session, username="ada")

    feed = await read_feed(client, f"/users/{ada.id}/feed.xml")

    assert feed.feed.title == "Posts by ada · fastblog"
    assert feed.entries == []


async def test_feeds_of_what_does_not_exist_are_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/users/987654/feed.xml")).status_code == 404
    assert (await client.get("/users/abc/feed.xml")).status_code == 422
    # No post has tags yet: every tag's feed is unknown.
    assert (await client.get("/tags/python/feed.xml")).status_code == 404


class Runnable(HTMLParser):
    """What in HTML could run: script elements, event handlers, javascript:/data: URLs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.found.append(tag)
        for name, value in attrs:
            url = (value or "").strip().lower()
            if name.startswith("on") or url.startswith(("javascript:", "data:")):
                self.found.append(f"{tag} {name}={value}")


HOSTILE_TITLE = "<script>alert(1)</script> & ]]> </title>"
HOSTILE_CONTENT = (
    "<script>alert('x')</script>\n"
    '<a href="javascript:alert(1)">link</a>\n\n'
    '<img src=x onerror="alert(2)"> <svg onload=alert(3)>\n'
    "]]><![CDATA[ <?xml-stylesheet?> &amp; &#x3C;script&#x3E;"
)
# What a reader sees of it: every character as written, except that Markdown decodes the
# entity references the writer typed (as HTML would): "&amp;" is "&", "&#x3C;" is "<".
HOSTILE_CONTENT_SEEN = HOSTILE_CONTENT.replace("&amp; &#x3C;script&#x3E;", "& <script>")


async def test_hostile_text_stays_text(client: httpx.AsyncClient, session: AsyncSession) -> None:
    author = await make_user(session, username="<b>eve</b>")
    post = Post(title=HOSTILE_TITLE, content=HOSTILE_CONTENT, user_id=author.id, date_posted=START)
    session.add(post)
    await session.commit()

    for path in ("/feed.xml", f"/users/{author.id}/feed.xml"):
        [entry] = (await read_feed(client, path)).entries
        assert entry.title == HOSTILE_TITLE
        assert entry.author == "<b>eve</b>"
        html = entry.content[0].value
        runnable = Runnable()
        runnable.feed(html)
        assert runnable.found == []
        text = HTMLParser()
        seen: list[str] = []
        text.handle_data = seen.append  # type: ignore[method-assign]
        text.feed(html)
        assert "".join(seen).replace("\n", "") == HOSTILE_CONTENT_SEEN.replace("\n", "")


async def test_characters_xml_cannot_carry_are_left_out(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    content = "bell\x07 vertical tab\x0b form feed\x0c escape\x1b end"
    post = Post(title="Control\x01 characters", content=content, user_id=author.id)
    session.add(post)
    await session.commit()

    [entry] = (await read_feed(client, "/feed.xml")).entries

    assert entry.title == "Control characters"
    assert entry.content[0].value == "<p>bell vertical tab form feed escape end</p>"


async def test_a_page_links_the_feeds_it_belongs_to(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ada = await make_user(session, username="ada")
    [post] = await make_posts(session, ada, 1)
    ada_feed = f"/users/{ada.id}/feed.xml"

    for path, feeds in [
        ("/", ["/feed.xml"]),
        ("/login", ["/feed.xml"]),
        (f"/users/{ada.id}/posts", ["/feed.xml", ada_feed]),
        (f"/posts/{post.id}/{post.slug}", ["/feed.xml", ada_feed]),
    ]:
        page = read_page(await client.get(path))
        alternates = [
            link["href"]
            for link in page.head_links
            if link.get("rel") == "alternate" and link.get("type") == "application/atom+xml"
        ]
        assert alternates == feeds, path
        for feed in alternates:  # each one a working feed
            await read_feed(client, feed)


async def test_a_reader_that_has_the_feed_gets_304(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ada = await make_user(session)
    await make_posts(session, ada, 2)
    first = await client.get("/feed.xml")
    etag = first.headers["etag"]

    again = await client.get("/feed.xml", headers={"If-None-Match": etag})

    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    await make_posts(session, ada, 1, start=START + timedelta(days=1))
    changed = await client.get("/feed.xml", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag


async def test_an_edit_or_a_deletion_shows_at_once(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """Feeds are kept in memory while their posts stay the same: any change is a new feed."""
    ada = await make_user(session, username="ada")
    first, second = await make_posts(session, ada, 2)
    assert [e.title for e in (await read_feed(client, "/feed.xml")).entries] == [
        second.title,
        first.title,
    ]

    # Through the API, as any edit: it renders the new content (the feeds show content_html).
    headers = await login(client, ada)
    edits = [(second, {"content": "Changed words."}), (first, {"title": "A new title"})]
    for post, change in edits:
        response = await client.patch(f"/api/posts/{post.id}", json=change, headers=headers)
        assert response.status_code == 200, response.text
    entries = (await read_feed(client, "/feed.xml")).entries
    assert [entry.title for entry in entries] == [second.title, "A new title"]
    assert entries[0].content[0].value == "<p>Changed words.</p>"

    await session.delete(second)
    await session.commit()
    author_feed = await read_feed(client, f"/users/{ada.id}/feed.xml")
    assert [entry.title for entry in author_feed.entries] == ["A new title"]
    assert [entry.title for entry in (await read_feed(client, "/feed.xml")).entries] == [
        "A new title"
    ]


async def _feed_of(app: Any, base_url: str) -> Any:
    async with httpx.AsyncClient(transport=asgi_transport(app), base_url=base_url) as c:
        return await read_feed(c, "/feed.xml")


async def test_feeds_sitemap_and_robots_use_the_public_address_and_ids_survive_a_move(
    settings: Settings, tmp_path: Path, session: AsyncSession
) -> None:
    ada = await make_user(session, username="ada")
    [post] = await make_posts(session, ada, 1)
    old = make_settings(settings.database_url, tmp_path, public_base_url="https://blog.example.org")
    moved = make_settings(
        settings.database_url,
        tmp_path,
        public_base_url="https://ada.example.net",
        feed_id_authority="blog.example.org",
    )

    app = create_app(old)
    async with started(app):
        before = await _feed_of(app, "http://10.0.0.5:8000")
        async with httpx.AsyncClient(
            transport=asgi_transport(app), base_url="http://10.0.0.5:8000"
        ) as c:
            sitemap = (await c.get("/sitemap.xml")).text
            robots = (await c.get("/robots.txt")).text
    app = create_app(moved)
    async with started(app):
        after = await _feed_of(app, "http://10.0.0.5:8000")

    [entry] = before.entries
    assert entry.id == f"tag:blog.example.org,2026-03-03:/posts/{post.id}"
    assert entry.link == f"https://blog.example.org/posts/{post.id}/{post.slug}"
    assert before.feed.id == "https://blog.example.org/feed.xml"
    assert f"<loc>https://blog.example.org/posts/{post.id}/{post.slug}</loc>" in sitemap
    assert "10.0.0.5" not in sitemap
    assert "Sitemap: https://blog.example.org/sitemap.xml" in robots
    # At the new address the links move and the ids stay: no post is announced again.
    [entry_after] = after.entries
    assert entry_after.link == f"https://ada.example.net/posts/{post.id}/{post.slug}"
    assert entry_after.id == entry.id


async def test_an_entry_id_keeps_its_date_when_the_post_is_rescheduled(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ada = await make_user(session)
    [post] = await make_posts(session, ada, 1)
    first = (await read_feed(client, "/feed.xml")).entries[0].id

    post.published_at = START - timedelta(days=40)
    await session.commit()
    again = (await read_feed(client, "/feed.xml")).entries[0]

    assert again.published_parsed[:3] == (2026, 1, 22)
    assert again.id == first
