"""Lists that stay cheap: every post list pages by cursor, in order, once per post, on both
databases; offsets stop at a documented bound and say where to go instead."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from fastblog.pagination import Keyset, encode_cursor
from fastblog.params import MAX_SKIP
from fastblog.posts.models import DRAFT, Post, PostTag, Tag
from tests.factories import login, make_user
from tests.html import Page, read_page
from tests.reliability.browser import browser_login

pytestmark = pytest.mark.anyio

START = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
OLDER = "Older posts →"
NEWER = "← Newer posts"
POST_LINK = re.compile(r"^/posts/\d+/(?!edit$|delete$)[^/]+$")  # a post, not its edit form


async def posts_with_ties(
    session: AsyncSession, author: User, count: int, *, start: datetime = START
) -> list[Post]:
    """`count` published posts, three at a time sharing one published_at (the id breaks the
    tie), plus a draft and a scheduled post that no reader may see."""
    posts = [
        Post(
            title=f"Post {n}",
            content=f"Body {n}.",
            user_id=author.id,
            date_posted=start + timedelta(minutes=n // 3),
        )
        for n in range(count)
    ]
    hidden = [
        Post(title="A draft", content="Secret.", user_id=author.id, status=DRAFT),
        Post(
            title="Scheduled",
            content="Later.",
            user_id=author.id,
            published_at=datetime.now(UTC) + timedelta(days=1),
        ),
    ]
    session.add_all(posts + hidden)
    await session.commit()
    return posts


def newest_first(posts: list[Post]) -> list[int]:
    return [post.id for post in sorted(posts, key=lambda p: (p.published_at, p.id), reverse=True)]


async def tag_posts(session: AsyncSession, posts: list[Post], name: str) -> None:
    tag = Tag(name=name)
    session.add(tag)
    await session.flush()
    session.add_all(PostTag(post_id=post.id, tag_id=tag.id) for post in posts)
    await session.commit()


async def walk(client: httpx.AsyncClient, url: str, **params: Any) -> list[int]:
    """Every post id of the list, following next_cursor to the end."""
    seen: list[int] = []
    cursor = None
    for _ in range(1000):
        response = await client.get(
            url, params={**params, **({"cursor": cursor} if cursor else {})}
        )
        assert response.status_code == 200, response.text
        page = response.json()
        seen += [post["id"] for post in page["posts"]]
        cursor = page["next_cursor"]
        assert page["has_more"] is (cursor is not None)
        if cursor is None:
            return seen
    raise AssertionError("the cursors never ended")


@pytest.mark.parametrize("limit", [1, 3, 7, 100])
async def test_following_cursors_visits_every_visible_post_once_in_order(
    client: httpx.AsyncClient, session: AsyncSession, limit: int
) -> None:
    author = await make_user(session)
    other = await make_user(session)
    posts = await posts_with_ties(session, author, 20)
    posts += await posts_with_ties(session, other, 4)
    await tag_posts(session, posts[::2], "even")

    assert await walk(client, "/api/posts", limit=limit) == newest_first(posts)
    assert await walk(client, "/api/posts", limit=limit, tag="even") == newest_first(posts[::2])
    mine = [post for post in posts if post.user_id == author.id]
    assert await walk(client, f"/api/users/{author.id}/posts", limit=limit) == newest_first(mine)
    both = [post for post in posts[::2] if post.user_id == author.id]
    by_user_and_tag = await walk(client, f"/api/users/{author.id}/posts", limit=limit, tag="even")
    assert by_user_and_tag == newest_first(both)


async def test_a_cursor_stays_valid_after_new_posts_are_written(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    posts = await posts_with_ties(session, author, 12)
    first = (await client.get("/api/posts", params={"limit": 5})).json()

    # Newer than all (three at one time), and one among the pages already read.
    newer = await posts_with_ties(session, author, 3, start=START + timedelta(days=1))
    already_read = START + timedelta(minutes=3)
    session.add(Post(title="Between", content="x", user_id=author.id, date_posted=already_read))
    await session.commit()
    rest = await client.get("/api/posts", params={"limit": 50, "cursor": first["next_cursor"]})

    expected = newest_first(posts)
    assert [post["id"] for post in first["posts"]] == expected[:5]
    assert [post["id"] for post in rest.json()["posts"]] == expected[5:]
    assert rest.json()["total"] == len(posts) + len(newer) + 1
    assert rest.json()["next_cursor"] is None


async def test_a_page_reached_by_skip_carries_a_cursor_to_follow(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    posts = await posts_with_ties(session, await make_user(session), 10)

    jumped = (await client.get("/api/posts", params={"skip": 4, "limit": 3})).json()
    followed = (await client.get("/api/posts", params={"cursor": jumped["next_cursor"]})).json()

    expected = newest_first(posts)
    assert [post["id"] for post in jumped["posts"]] == expected[4:7]
    assert [post["id"] for post in followed["posts"]] == expected[7:]
    assert followed["next_cursor"] is None


async def test_a_deleted_posts_cursor_still_leads_on(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    posts = await posts_with_ties(session, author, 6)
    first = (await client.get("/api/posts", params={"limit": 3})).json()
    last_shown = first["posts"][-1]["id"]

    deleted = await client.delete(f"/api/posts/{last_shown}", headers=await login(client, author))
    rest = (await client.get("/api/posts", params={"cursor": first["next_cursor"]})).json()

    assert deleted.status_code == 204
    assert [post["id"] for post in rest["posts"]] == newest_first(posts)[3:]


async def test_a_link_whose_posts_were_deleted_says_so_and_leads_to_the_newest(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    posts = await posts_with_ties(session, author, 15)  # two pages of 10
    await tag_posts(session, posts, "python")
    lists = ["/", f"/users/{author.id}/posts", "/tags/python"]
    older = [read_page(await client.get(path)).link(OLDER).href for path in lists]

    # Every post of page 2 is deleted: the "Older posts" links now lead past the end.
    for post in sorted(posts, key=lambda p: (p.published_at, p.id))[:5]:
        await session.delete(post)
    await session.commit()

    for path, link in zip(lists, older, strict=True):
        response = await client.get(link)
        assert response.status_code == 200, link
        page = read_page(response)
        assert "No more posts here" in page.text
        assert "have been deleted or unpublished since it was made" in page.text
        assert page.link("Go to the newest posts").path == path
        assert "Page 2" not in page.text  # the link's label; the list has one page now
        assert "fewer pages" not in page.text
        assert not page.has_link(OLDER)

    # The same on an author's drafts.
    session.add_all(
        Post(title=f"Draft {n}", content="x", user_id=author.id, status=DRAFT) for n in range(12)
    )
    await session.commit()
    await browser_login(client, author)
    first = read_page(await client.get("/drafts"))
    kept = {int(link.path.split("/")[2]) for link in first.links if POST_LINK.match(link.path)}
    hidden = (Post.status == DRAFT) | (Post.published_at > datetime.now(UTC))
    await session.execute(delete(Post).where(hidden, Post.id.not_in(kept)))
    await session.commit()
    link = first.link(OLDER).href
    page = read_page(await client.get(link))
    assert "have been published or deleted since it was made" in page.text
    assert page.link("Go to your newest drafts").path == "/drafts"


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "x" * 201,
        encode_cursor(1),
        encode_cursor("2026-01-01", 1),
        Keyset(at=START, id=1).encode() + "A",
    ],
)
async def test_a_bad_cursor_is_a_422_naming_it(
    client: httpx.AsyncClient, session: AsyncSession, cursor: str
) -> None:
    user = await make_user(session)

    for path in ("/api/posts", f"/api/users/{user.id}/posts"):
        response = await client.get(path, params={"cursor": cursor})
        assert response.status_code == 422, (path, response.text)
        [error] = response.json()["detail"]
        assert error["loc"] == ["query", "cursor"]
    for path in ("/", "/posts", f"/users/{user.id}/posts", "/tags/python"):
        response = await client.get(path, params={"cursor": cursor})
        assert response.status_code == 422, path
        assert "The link to the next page: it is not a link this list gave out" in (
            read_page(response).text
        )
    for path in ("/", f"/users/{user.id}/posts"):
        response = await client.get(path, params={"before": cursor})
        assert response.status_code == 422, path
        assert "The link to the page before: it is not a link this list gave out" in (
            read_page(response).text
        )


async def test_a_cursor_from_the_future_shows_no_scheduled_post(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    posts = await posts_with_ties(session, await make_user(session), 3)
    future = Keyset(at=datetime(2999, 1, 1, tzinfo=UTC), id=2**62).encode()

    page = (await client.get("/api/posts", params={"cursor": future})).json()

    assert [post["id"] for post in page["posts"]] == newest_first(posts)


async def test_skip_past_the_bound_is_a_422_pointing_to_the_cursor(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session)

    for path in ("/api/posts", f"/api/users/{user.id}/posts"):
        assert (await client.get(path, params={"skip": MAX_SKIP})).status_code == 200
        response = await client.get(path, params={"skip": MAX_SKIP + 1})
        assert response.status_code == 422
        [error] = response.json()["detail"]
        assert error["loc"] == ["query", "skip"]
        assert "cursor" in error["msg"]
        assert "next_cursor" in error["msg"]


async def test_a_page_number_past_the_bound_is_a_404(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session)
    await tag_posts(session, await posts_with_ties(session, user, 3), "python")
    deepest = MAX_SKIP // 10 + 1  # ten posts a page

    # (Page `deepest` itself is past these three posts' last page: a 404 of its own kind.)
    for path in ("/", "/posts", f"/users/{user.id}/posts", "/tags/python", "/?tag=python"):
        response = await client.get(path, params={"page": deepest + 1})
        assert response.status_code == 404, path


def post_titles(page: Page) -> list[str]:
    return [
        link.text
        for link in page.links
        if POST_LINK.match(link.path)
        and not link.text.startswith("Read more")
        and not httpx.URL(link.href).fragment  # the comment count links to #comments
    ]


async def follow_pages(client: httpx.AsyncClient, url: str) -> tuple[list[str], list[Page]]:
    """The post titles of every page, following "Older posts" from `url`; and the pages."""
    titles: list[str] = []
    pages = []
    for _ in range(100):
        response = await client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        page = read_page(response)
        pages.append(page)
        titles += post_titles(page)
        if not page.has_link(OLDER):
            return titles, pages
        href = page.link(OLDER).href
        assert httpx.URL(href).params["cursor"]
        url = str(httpx.URL(url).join(href))
    raise AssertionError("the pages never ended")


def titles_of(posts: list[Post]) -> list[str]:
    by_id = {post.id: post.title for post in posts}
    return [by_id[post_id] for post_id in newest_first(posts)]


async def test_older_posts_links_carry_cursors_through_every_page(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    posts = await posts_with_ties(session, author, 34)
    await tag_posts(session, posts, "all")

    for url in ("/", "/?tag=all", "/tags/all", f"/users/{author.id}/posts"):
        titles, pages = await follow_pages(client, f"http://testserver{url}")
        assert titles == titles_of(posts), url
        assert [f"Page {n} of 4" in page.text for n, page in enumerate(pages, 1)] == [True] * 4
        assert "A draft" not in titles
        assert "Scheduled" not in titles
        if "tag=" in url:
            assert all(
                httpx.URL(page.link(OLDER).href).params["tag"] == "all" for page in pages[:-1]
            )


async def test_newer_posts_links_lead_back_page_by_page(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    posts = await posts_with_ties(session, await make_user(session), 34)
    _, pages = await follow_pages(client, "http://testserver/posts")
    url = httpx.URL("http://testserver/posts")
    last = pages[-1]

    seen = []
    page = last
    for _ in range(3):
        href = page.link(NEWER).href
        url = url.join(href)
        response = await client.get(url)
        page = read_page(response)
        seen.append(post_titles(page))
    assert not page.has_link(NEWER)  # back at the first page
    expected = titles_of(posts)
    assert seen == [expected[20:30], expected[10:20], expected[:10]]
    assert url.path == "/posts"
    assert "Page 1 of 4" in page.text


async def test_the_drafts_page_walks_by_cursor_and_only_for_its_author(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    drafts = [
        Post(
            title=f"Draft {n}",
            content="Not yet.",
            user_id=author.id,
            status=DRAFT,
            date_posted=START + timedelta(minutes=n // 2),
        )
        for n in range(13)
    ]
    session.add_all(drafts)
    await session.commit()
    await browser_login(client, author)

    titles, pages = await follow_pages(client, "http://testserver/drafts")

    by_change = sorted(drafts, key=lambda post: (post.updated_at, post.id), reverse=True)
    assert titles == [post.title for post in by_change]
    assert len(pages) == 2
    assert pages[1].link(NEWER).path == "/drafts"
    public = await walk(client, "/api/posts", limit=100)
    assert public == []


async def test_the_drafts_pages_are_counted_and_linked_like_every_list(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """11 drafts: two pages, "Page 1 of 2", page 2 by number; no "Newer" link on the first.
    Then 10: one page, and no "Older" link to an empty one."""
    author = await make_user(session)
    drafts = [
        Post(title=f"Draft {n}", content="Not yet.", user_id=author.id, status=DRAFT)
        for n in range(11)
    ]
    session.add_all(drafts)
    await session.commit()
    await browser_login(client, author)

    first = read_page(await client.get("/drafts"))
    second = read_page(await client.get("/drafts?page=2"))
    assert "Page 1 of 2" in first.text
    assert first.has_link(OLDER)
    assert not first.has_link(NEWER)
    assert len(post_titles(second)) == 1
    assert "Page 2 of 2" in second.text

    await session.delete(drafts[0])
    await session.commit()
    only = read_page(await client.get("/drafts"))
    assert len(post_titles(only)) == 10
    assert not only.has_link(OLDER)
    assert not only.has_link(NEWER)


async def test_totals_stay_right_on_every_page(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    posts = await posts_with_ties(session, author, 15)
    await tag_posts(session, posts[:4], "few")

    first = (await client.get(f"/api/users/{author.id}/posts", params={"limit": 4})).json()
    second = await client.get(
        f"/api/users/{author.id}/posts", params={"limit": 4, "cursor": first["next_cursor"]}
    )
    tagged = (await client.get("/api/posts", params={"tag": "few", "limit": 1})).json()

    assert first["total"] == second.json()["total"] == 15
    assert tagged["total"] == 4


async def test_a_tags_list_follows_changed_publication_dates_and_drafts(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """A tag's page reads post_tags' copy of published_at: it must follow every change."""
    author = await make_user(session)
    headers = await login(client, author)
    made = []
    for n in range(5):
        at = (START + timedelta(days=n)).isoformat()
        response = await client.post(
            "/api/posts",
            json={"title": f"T{n}", "content": "c", "tags": ["moving"], "published_at": at},
            headers=headers,
        )
        assert response.status_code == 201, response.text
        made.append(response.json()["id"])

    async def edit(post_id: int, **body: Any) -> None:
        response = await client.patch(f"/api/posts/{post_id}", json=body, headers=headers)
        assert response.status_code == 200, response.text

    await edit(made[4], published_at=(START - timedelta(days=1)).isoformat())  # newest to oldest
    await edit(made[2], status="draft")
    assert await walk(client, "/api/posts", tag="moving", limit=2) == [
        made[3], made[1], made[0], made[4]
    ]  # fmt: skip
    await edit(made[2], status="published", published_at=(START + timedelta(days=9)).isoformat())
    await edit(made[0], tags=["other", "moving"])  # tagged again: a fresh row
    assert await walk(client, "/api/posts", tag="moving", limit=2) == [
        made[2], made[3], made[1], made[0], made[4]
    ]  # fmt: skip


async def test_a_newer_posts_link_with_no_page_number_finds_the_top_and_leads_on(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """?before= alone (a link whose page number was dropped): the page before the key, the
    newest 10 here, with no "Newer posts" link and an "Older posts" link that leads back to
    the key's post and on; a key with nothing newer is a page that says so, not an error."""
    await posts_with_ties(session, await make_user(session), 25)
    listed = (await client.get("/api/posts", params={"limit": 100})).json()["posts"]
    titles = [post["title"] for post in listed]

    def key_of(post: dict[str, Any]) -> str:
        return Keyset(at=datetime.fromisoformat(post["published_at"]), id=post["id"]).encode()

    top = read_page(await client.get("/", params={"before": key_of(listed[10])}))
    older = read_page(await client.get(httpx.URL("http://testserver/").join(top.link(OLDER).href)))
    above_the_newest = await client.get("/", params={"before": key_of(listed[0])})

    assert post_titles(top) == titles[:10]
    assert not top.has_link(NEWER)
    assert post_titles(older) == titles[10:20]
    assert above_the_newest.status_code == 200
    assert read_page(above_the_newest).link("Go to the newest posts").path == "/"


async def test_a_page_of_exactly_the_limit_offers_no_next_page(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    posts = await posts_with_ties(session, await make_user(session), 3)

    page = (await client.get("/api/posts", params={"limit": 3})).json()

    assert [post["id"] for post in page["posts"]] == newest_first(posts)
    assert (page["has_more"], page["next_cursor"]) == (False, None)


async def test_newer_posts_of_one_moment_lead_back_to_the_same_page(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """Posts published at one moment (a bulk import) are ordered by id: "Newer posts" from the
    last page shows exactly the page before it, not the newest of them."""
    author = await make_user(session)
    posts = [
        Post(title=f"Imported {n}", content="x", user_id=author.id, date_posted=START)
        for n in range(25)
    ]
    session.add_all(posts)
    await session.commit()
    titles, pages = await follow_pages(client, "http://testserver/")

    back = read_page(
        await client.get(httpx.URL("http://testserver/").join(pages[-1].link(NEWER).href))
    )

    assert post_titles(back) == titles[10:20]
    assert post_titles(pages[-1]) == titles[20:]


async def test_the_drafts_page_shows_scheduled_posts_and_no_published_one(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """Its author's drafts and scheduled posts; never a published post, nor anyone else's."""
    author = await make_user(session)
    other = await make_user(session)
    session.add_all(
        [
            Post(title="Someone else's", content="x", user_id=other.id, status=DRAFT),
            Post(
                title="Someone else's, tomorrow",
                content="x",
                user_id=other.id,
                published_at=datetime.now(UTC) + timedelta(days=1),
            ),
            Post(title="Unfinished", content="x", user_id=author.id, status=DRAFT),
            Post(
                title="Out tomorrow",
                content="x",
                user_id=author.id,
                published_at=datetime.now(UTC) + timedelta(days=1),
            ),
            Post(title="Out already", content="x", user_id=author.id, date_posted=START),
        ]
    )
    await session.commit()
    await browser_login(client, author)

    page = read_page(await client.get("/drafts"))

    assert sorted(post_titles(page)) == ["Out tomorrow", "Unfinished"]
