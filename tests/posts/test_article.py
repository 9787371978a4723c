"""A post's own page: the article a reader sees, and what it tells search engines and share
cards; the titles and descriptions of the other pages."""

import json
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.config import Settings
from fastblog.posts.meta import describe, json_for_script
from fastblog.posts.models import Post
from tests.apps import create_app
from tests.asgi import asgi_transport, started
from tests.conftest import make_settings
from tests.factories import make_posts, make_user
from tests.html import Page, read_page

pytestmark = pytest.mark.anyio

START = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


def path_of(post: Post) -> str:
    """The post's canonical address: its id, then its slug (/posts/{id} answers 301 to it)."""
    return f"/posts/{post.id}/{post.slug}"


async def post_page(client: httpx.AsyncClient, post: Post) -> Page:
    response = await client.get(path_of(post))
    assert response.status_code == 200, response.text
    return read_page(response)


class Headings(HTMLParser):
    def __init__(self, level: str) -> None:
        super().__init__(convert_charrefs=True)
        self.level = level
        self.found: list[str] = []
        self.inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == self.level:
            self.inside = True
            self.found.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == self.level:
            self.inside = False

    def handle_data(self, data: str) -> None:
        if self.inside:
            self.found[-1] += data


def headings(response: httpx.Response, level: str) -> list[str]:
    parser = Headings(level)
    parser.feed(response.text)
    return [" ".join(text.split()) for text in parser.found]


async def test_the_post_is_the_pages_one_h1_with_its_author_and_date(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ada = await make_user(session, username="ada")
    [post] = await make_posts(session, ada, 1)

    response = await client.get(path_of(post))

    assert headings(response, "h1") == [post.title]
    page = read_page(response)
    assert page.title == f"{post.title} · fastblog"
    assert page.link("ada").path == f"/users/{ada.id}/posts"
    assert "/static/img/default-avatar.png" in page.images
    assert "March 3, 2026" in page.text
    assert post.content in page.text


async def test_previous_next_and_more_by_the_author(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ada = await make_user(session, username="ada")
    bob = await make_user(session, username="bob")
    # Interleaved: ada 1, bob 1, ada 2, bob 2, ... a minute apart.
    posts = []
    for n in range(1, 7):
        author = ada if n % 2 else bob
        post = Post(
            title=f"Post {n}",
            content=f"Body {n}.",
            user_id=author.id,
            date_posted=START + timedelta(minutes=n),
        )
        session.add(post)
        posts.append(post)
    await session.commit()
    middle = posts[2]  # "Post 3", by ada

    page = await post_page(client, middle)

    assert page.link("← Previous post Post 2").path == path_of(posts[1])
    assert page.link("Next post → Post 4").path == path_of(posts[3])
    assert "More by ada" in page.text
    more = [link.text for link in page.links if link.text in {p.title for p in posts}]
    assert more == ["Post 5", "Post 1"]  # ada's others, newest first; never the post itself
    assert page.link("All posts by ada").path == f"/users/{ada.id}/posts"

    first = await post_page(client, posts[0])
    assert not any(link.text.startswith("← Previous post") for link in first.links)
    assert first.link("Next post → Post 2").path == path_of(posts[1])
    last = await post_page(client, posts[-1])
    assert not any(link.text.startswith("Next post") for link in last.links)


async def test_posts_at_the_same_moment_still_have_neighbours(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """Ties on the date are broken by id, as the lists order them."""
    author = await make_user(session)
    posts = [
        Post(title=f"Same time {n}", content="x", user_id=author.id, date_posted=START)
        for n in range(3)
    ]
    session.add_all(posts)
    await session.commit()

    page = await post_page(client, posts[1])

    assert page.link("← Previous post Same time 0").path == path_of(posts[0])
    assert page.link("Next post → Same time 2").path == path_of(posts[2])


async def test_an_only_post_has_no_neighbours_and_no_more(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    [post] = await make_posts(session, await make_user(session), 1)

    page = await post_page(client, post)

    assert "Previous post" not in page.text
    assert "Next post" not in page.text
    assert "More by" not in page.text


async def test_share_card_canonical_link_and_description(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ada = await make_user(session, username="ada")
    # The description is the excerpt (the first paragraph) cut to fit: a long first paragraph.
    content = "First line of the post.\n" + "word " * 100 + "\n\nA second paragraph."
    post = Post(title="Typography matters", content=content, user_id=ada.id, date_posted=START)
    session.add(post)
    await session.commit()

    page = await post_page(client, post)

    url = f"http://testserver{path_of(post)}"
    assert page.head_link("canonical")["href"] == url
    description = page.meta["description"]
    assert description.startswith("First line of the post. word word")
    assert len(description) <= 160
    assert description.endswith("…")
    assert "second paragraph" not in description
    assert page.meta["og:type"] == "article"
    assert page.meta["og:title"] == "Typography matters"
    assert page.meta["og:description"] == description
    assert page.meta["og:url"] == url
    assert page.meta["og:site_name"] == "fastblog"
    # No picture in the post and no share image set: no og:image (never the default avatar).
    assert "og:image" not in page.meta
    assert page.meta["article:published_time"] == "2026-03-03T09:00:00+00:00"
    assert page.meta["article:author"] == f"http://testserver/users/{ada.id}/posts"
    assert page.meta["twitter:card"] == "summary"
    assert page.meta["twitter:title"] == "Typography matters"
    assert page.meta["twitter:description"] == description
    feed = page.head_link(
        "alternate", type="application/atom+xml", href=f"/users/{ada.id}/feed.xml"
    )
    assert feed["title"] == "Posts by ada"
    page.head_link("alternate", type="application/atom+xml", href="/feed.xml")


async def test_json_ld_describes_the_blog_posting(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ada = await make_user(session, username="ada")
    [post] = await make_posts(session, ada, 1)

    [data] = [json.loads(text) for text in (await post_page(client, post)).json_ld]

    url = f"http://testserver{path_of(post)}"
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "BlogPosting"
    assert data["headline"] == post.title
    assert data["url"] == url
    assert data["mainEntityOfPage"]["@id"] == url
    assert post.published_at is not None
    assert data["datePublished"] == post.published_at.isoformat()
    assert data["author"] == {
        "@type": "Person",
        "name": "ada",
        "url": f"http://testserver/users/{ada.id}/posts",
    }
    assert data["description"] == post.content


HOSTILE = '</script><script>alert(1)</script><!-- "quotes" & <b>'


async def test_a_title_cannot_close_the_json_ld_script(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session, username="</script>")
    post = Post(title=HOSTILE, content=HOSTILE, user_id=author.id, date_posted=START)
    session.add(post)
    await session.commit()

    response = await client.get(path_of(post))
    page = read_page(response)

    [text] = page.json_ld
    assert "<" not in text
    assert ">" not in text
    data = json.loads(text)
    assert data["headline"] == HOSTILE
    assert data["author"]["name"] == "</script>"
    assert page.meta["og:title"] == HOSTILE
    assert response.text.count("<script") == 1  # the JSON-LD, nothing the title opened


def test_json_for_script_keeps_the_data() -> None:
    data = {"a": "</script>\u2028<!--&-->", "b": ["é", 1, None]}

    text = str(json_for_script(data))

    assert json.loads(text) == data
    assert not set(text) & {"<", ">", "&", "\u2028"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Short.", "Short."),
        ("  lines\n\nand   spaces\t", "lines and spaces"),
        ("a" * 200, "a" * 159 + "…"),
        ("word " * 40, ("word " * 32).strip() + "…"),
    ],
)
def test_describe(text: str, expected: str) -> None:
    assert describe(text) == expected
    assert len(describe(text)) <= 160


async def test_the_canonical_address_is_the_public_one_when_set(
    settings: Settings, tmp_path: Path, session: AsyncSession
) -> None:
    [post] = await make_posts(session, await make_user(session), 1)
    app = create_app(
        make_settings(settings.database_url, tmp_path, public_base_url="https://blog.example.org/")
    )
    async with (
        started(app),
        httpx.AsyncClient(transport=asgi_transport(app), base_url="http://10.0.0.5:8000") as c,
    ):
        page = read_page(await c.get(path_of(post)))

    url = f"https://blog.example.org{path_of(post)}"
    assert page.head_link("canonical")["href"] == url
    assert page.meta["og:url"] == url
    assert json.loads(page.json_ld[0])["url"] == url


@pytest.mark.parametrize(
    ("path", "title"),
    [
        ("/", "Latest posts · fastblog"),
        ("/?page=2", "Latest posts, page 2 · fastblog"),
        ("/posts?page=3", "Latest posts, page 3 · fastblog"),
    ],
)
async def test_every_list_page_has_its_own_title_and_description(
    client: httpx.AsyncClient, session: AsyncSession, path: str, title: str
) -> None:
    await make_posts(session, await make_user(session), 25)

    page = read_page(await client.get(path))

    assert page.title == title
    if path == "/":  # the owner's description of the site (GET /api/site)
        assert page.meta["description"] == "Posts and their authors, on an async-first blog."
    else:
        number = path.rsplit("=", 1)[1]
        assert page.meta["description"] == f"The latest posts on fastblog, page {number} of 3."


async def test_an_authors_pages_have_titles_descriptions_and_a_feed(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ada = await make_user(session, username="ada")
    await make_posts(session, ada, 12)

    first = read_page(await client.get(f"/users/{ada.id}/posts"))
    second = read_page(await client.get(f"/users/{ada.id}/posts?page=2"))

    assert first.title == "Posts by ada · fastblog"
    assert second.title == "Posts by ada, page 2 · fastblog"
    assert first.meta["description"] == "12 posts by ada on fastblog."
    assert second.meta["description"] == "12 posts by ada on fastblog, page 2 of 2."
    feed = first.head_link("alternate", href=f"/users/{ada.id}/feed.xml")
    assert feed["type"] == "application/atom+xml"
    assert (
        first.link("Feed of ada\N{RIGHT SINGLE QUOTATION MARK}s posts").path
        == f"/users/{ada.id}/feed.xml"
    )


@pytest.mark.parametrize("path", ["/login", "/register", "/forgot-password", "/no/such/page"])
async def test_other_pages_have_a_title_and_a_description(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)

    page = read_page(response)
    assert page.title.endswith(" · fastblog")
    assert page.title != "fastblog · fastblog"
    assert page.meta["description"]
    page.head_link("alternate", type="application/atom+xml", href="/feed.xml")
