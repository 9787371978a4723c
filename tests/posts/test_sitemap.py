"""Sitemaps and robots.txt, read as a crawler reads them."""

import xml.etree.ElementTree as ET
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from fastblog.posts.models import Post
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

    root = await read_xml(client, "/sitemap.xml")

    assert locations(root) == [
        f"{SITE}/",
        *(f"{SITE}/posts/{post.id}" for post in posts),
        f"{SITE}/users/{ada.id}/posts",
    ]
    lastmods = [element.text for element in root.findall("sm:url/sm:lastmod", NS)]
    assert lastmods == [
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
    assert listed == [
        f"{SITE}/",
        *(f"{SITE}/posts/{n}" for n in range(first_id, highest_post + 1)),
        f"{SITE}/users/{ada.id}/posts",
        f"{SITE}/users/{bob.id}/posts",
    ]


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

    assert urls == [f"{SITE}/posts/{last}"]


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
    assert len(statements) == 2, statements
    assert all("OFFSET" not in statement.upper() for statement in statements)


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
