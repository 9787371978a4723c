"""Sitemaps and robots.txt, read as a crawler reads them."""

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from fastblog.db import utcnow
from fastblog.posts.models import Post, PostTag, Tag
from fastblog.posts.syndication import get_sitemap_limit
from tests.factories import StatementCounter, make_posts, make_user

pytestmark = pytest.mark.anyio

NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
SITE = "http://testserver"


async def read_xml(client: httpx.AsyncClient, path: str) -> ET.Element:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/xml; charset=utf-8"
    return ET.fromstring(response.content)  # noqa: S314 - the app under test wrote it


def locations(root: ET.Element, item: str = "url") -> list[str]:
    assert root.tag == f"{{{NS['sm']}}}{'urlset' if item == 'url' else 'sitemapindex'}"
    return [element.text or "" for element in root.findall(f"sm:{item}/sm:loc", NS)]


def url_of(post: Post) -> str:
    """A post's canonical address: its id, then its slug."""
    return f"{SITE}/posts/{post.id}/{post.slug}"


async def tag(session: AsyncSession, name: str, *posts: Post) -> None:
    found = Tag(name=name)
    session.add(found)
    await session.flush()
    session.add_all(PostTag(post_id=post.id, tag_id=found.id) for post in posts)
    await session.commit()


@pytest.fixture
def small_sitemaps(app: FastAPI) -> Iterator[int]:
    """Three URLs a sitemap, so a few posts show the split that 50,000 would."""
    app.dependency_overrides[get_sitemap_limit] = lambda: 3
    yield 3
    del app.dependency_overrides[get_sitemap_limit]


async def test_one_sitemap_lists_home_posts_and_authors_with_posts(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ada = await make_user(session, username="ada")
    await make_user(session, username="silent")  # no posts: no page worth listing
    posts = await make_posts(session, ada, 2)
    await tag(session, "python", *posts)  # the most used tag first
    await tag(session, "c++", posts[0])

    root = await read_xml(client, "/sitemap.xml")

    assert locations(root) == [
        f"{SITE}/",
        f"{SITE}/tags/python",
        f"{SITE}/tags/c%2B%2B",
        *(url_of(post) for post in posts),
        f"{SITE}/users/{ada.id}/posts",
    ]
    lastmods = [element.text for element in root.findall("sm:url/sm:lastmod", NS)]
    assert lastmods == [  # none for the home and tag pages
        *(post.date_posted.isoformat() for post in posts),
        posts[-1].date_posted.isoformat(),  # the author's page changed with their newest post
    ]


async def test_an_empty_blog_has_a_sitemap_of_its_home_page(client: httpx.AsyncClient) -> None:
    assert locations(await read_xml(client, "/sitemap.xml")) == [f"{SITE}/"]


async def test_past_the_limit_the_sitemap_is_an_index_of_id_ranges(
    client: httpx.AsyncClient, session: AsyncSession, small_sitemaps: int
) -> None:
    ada = await make_user(session, username="ada")
    bob = await make_user(session, username="bob")
    posts = await make_posts(session, ada, 5) + await make_posts(session, bob, 2)
    await tag(session, "python", posts[0])
    first_id = min(post.id for post in posts)
    highest_post = max(post.id for post in posts)
    ranges = -(-highest_post // small_sitemaps)
    user_ranges = -(-bob.id // small_sitemaps)

    index = locations(await read_xml(client, "/sitemap.xml"), "sitemap")

    assert index == [
        f"{SITE}/sitemaps/pages.xml",
        *(f"{SITE}/sitemaps/posts-{n}.xml" for n in range(1, ranges + 1)),
        *(f"{SITE}/sitemaps/authors-{n}.xml" for n in range(1, user_ranges + 1)),
    ]
    listed: list[str] = []
    for url in index:
        urls = locations(await read_xml(client, url.removeprefix(SITE)))
        assert len(urls) <= small_sitemaps
        listed += urls
    assert [post.id for post in posts] == list(range(first_id, highest_post + 1))
    assert listed == [
        f"{SITE}/",
        f"{SITE}/tags/python",
        *(url_of(post) for post in posts),
        f"{SITE}/users/{ada.id}/posts",
        f"{SITE}/users/{bob.id}/posts",
    ]


async def test_an_empty_blog_past_the_limit_lists_no_empty_sitemap(
    client: httpx.AsyncClient, small_sitemaps: int
) -> None:
    """No post and no user: the index names the pages' sitemap only, and a crawler that asks
    for the first range of posts or authors anyway is told there is none."""
    index = locations(await read_xml(client, "/sitemap.xml"), "sitemap")

    assert index == [f"{SITE}/sitemaps/pages.xml"]
    assert (await client.get("/sitemaps/posts-1.xml")).status_code == 404
    assert (await client.get("/sitemaps/authors-1.xml")).status_code == 404


async def test_a_sitemap_past_the_last_range_is_404(
    client: httpx.AsyncClient, session: AsyncSession, small_sitemaps: int
) -> None:
    posts = await make_posts(session, await make_user(session), 4)
    beyond = max(post.id for post in posts) // small_sitemaps + 2

    assert (await client.get(f"/sitemaps/posts-{beyond}.xml")).status_code == 404
    assert (await client.get("/sitemaps/posts-0.xml")).status_code == 422


async def test_deleted_posts_leave_a_range_short_not_wrong(
    client: httpx.AsyncClient, session: AsyncSession, small_sitemaps: int
) -> None:
    posts = await make_posts(session, await make_user(session), 6)
    for post in posts[:-1]:
        await session.delete(post)
    await session.commit()
    last = posts[-1].id
    number = -(-last // small_sitemaps)

    urls = locations(await read_xml(client, f"/sitemaps/posts-{number}.xml"))

    assert urls == [url_of(posts[-1])]


async def test_a_sitemap_of_a_range_is_one_index_walk(
    client: httpx.AsyncClient,
    session: AsyncSession,
    count_statements: StatementCounter,
    small_sitemaps: int,
) -> None:
    await make_posts(session, await make_user(session), 7)

    with count_statements() as statements:
        await read_xml(client, "/sitemap.xml")
    assert len(statements) == 1, statements  # the highest ids: the index needs no count
    with count_statements() as statements:
        await read_xml(client, "/sitemaps/posts-1.xml")
    assert len(statements) == 2, statements  # the highest ids, then the range
    assert all("OFFSET" not in statement.upper() for statement in statements)
    # The range is one statement, that leaves out what readers cannot see yet.
    [walk] = [statement for statement in statements if "BETWEEN" in statement.upper()]
    assert "posts.status" in walk
    assert "posts.published_at <=" in walk


async def test_robots_txt_points_at_the_sitemap(client: httpx.AsyncClient) -> None:
    response = await client.get("/robots.txt")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    lines = response.text.splitlines()
    assert lines[0] == "User-agent: *"
    assert "Disallow: /account" in lines
    assert "Disallow: /api/" in lines
    assert f"Sitemap: {SITE}/sitemap.xml" in lines
    assert "Disallow: /" not in lines  # the posts stay crawlable


async def test_sitemap_users_are_authors_only(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    silent = User(username="silent", email="silent@example.com", password_hash="x")
    session.add(silent)
    await session.commit()
    ada = await make_user(session)
    session.add(Post(title="t", content="c", user_id=ada.id))
    await session.commit()

    urls = locations(await read_xml(client, "/sitemap.xml"))

    assert f"{SITE}/users/{ada.id}/posts" in urls
    assert f"{SITE}/users/{silent.id}/posts" not in urls


async def test_drafts_and_scheduled_posts_are_left_out(
    client: httpx.AsyncClient, session: AsyncSession, small_sitemaps: int
) -> None:
    ada = await make_user(session, username="ada")
    hidden = await make_user(session, username="hidden")  # only a draft and a scheduled post
    [shown] = await make_posts(session, ada, 1)
    draft = Post(title="Draft", content="x", user_id=hidden.id, status="draft")
    scheduled = Post(
        title="Later", content="x", user_id=hidden.id, published_at=utcnow() + timedelta(days=1)
    )
    session.add_all([draft, scheduled])
    await session.commit()
    await tag(session, "secret", draft, scheduled)

    listed: list[str] = []
    for url in locations(await read_xml(client, "/sitemap.xml"), "sitemap"):
        listed += locations(await read_xml(client, url.removeprefix(SITE)))

    assert listed == [f"{SITE}/", url_of(shown), f"{SITE}/users/{ada.id}/posts"]
