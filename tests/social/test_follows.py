"""Following through the API: idempotent, counted on both users, shown on the profile."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from fastblog.posts.models import Post
from tests.accounts import bearer
from tests.factories import make_posts, make_user

pytestmark = pytest.mark.anyio


async def test_following_twice_is_one_follow_and_unfollowing_twice_is_none(
    app: FastAPI, client: httpx.AsyncClient, author: User, reader: User
) -> None:
    url, headers = f"/api/users/{author.id}/follow", bearer(app, reader)

    first = await client.post(url, headers=headers)
    second = await client.post(url, headers=headers)
    assert (first.status_code, first.json()) == (200, {"following": True, "followers": 1})
    assert (second.status_code, second.json()) == (200, {"following": True, "followers": 1})

    dropped = await client.delete(url, headers=headers)
    again = await client.delete(url, headers=headers)
    assert (dropped.status_code, dropped.json()) == (200, {"following": False, "followers": 0})
    assert (again.status_code, again.json()) == (200, {"following": False, "followers": 0})


async def test_the_profile_counts_followers_following_and_published_posts(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, author: User, reader: User
) -> None:
    await make_posts(session, author, 3)
    session.add(Post(title="Draft", content="Not yet.", user_id=author.id, status="draft"))
    await session.commit()
    fans = [await make_user(session) for _ in range(2)]
    for fan in [reader, *fans]:
        await client.post(f"/api/users/{author.id}/follow", headers=bearer(app, fan))
    await client.post(f"/api/users/{fans[0].id}/follow", headers=bearer(app, author))

    anonymous = (await client.get(f"/api/users/{author.id}")).json()
    as_reader = (await client.get(f"/api/users/{author.id}", headers=bearer(app, reader))).json()
    reader_profile = (await client.get(f"/api/users/{reader.id}")).json()

    assert anonymous == {
        "id": author.id,
        "username": "author",
        "image_file": None,
        "image_path": "/static/img/default-avatar.png",
        "role": "author",
        "followers": 3,
        "following": 1,
        "posts": 3,
        "followed_by_me": False,
        "bio": None,
        "bio_html": None,
        "website": None,
    }
    assert as_reader["followed_by_me"] is True
    assert (reader_profile["followers"], reader_profile["following"]) == (0, 1)
    assert reader_profile["posts"] == 0


async def test_post_counts_follow_publishing_and_deleting(
    app: FastAPI, client: httpx.AsyncClient, author: User
) -> None:
    headers = bearer(app, author)
    draft = await client.post(
        "/api/posts", json={"title": "D", "content": "d", "status": "draft"}, headers=headers
    )
    published = await client.post(
        "/api/posts", json={"title": "P", "content": "p"}, headers=headers
    )
    tagged = await client.post(
        "/api/posts", json={"title": "T", "content": "t", "tags": ["x"]}, headers=headers
    )

    async def posts() -> int:
        count: int = (await client.get(f"/api/users/{author.id}")).json()["posts"]
        return count

    assert await posts() == 2
    await client.patch(
        f"/api/posts/{draft.json()['id']}", json={"status": "published"}, headers=headers
    )
    assert await posts() == 3
    await client.patch(
        f"/api/posts/{published.json()['id']}", json={"status": "draft"}, headers=headers
    )
    assert await posts() == 2
    await client.delete(f"/api/posts/{tagged.json()['id']}", headers=headers)
    assert await posts() == 1


async def test_following_yourself_is_422(
    app: FastAPI, client: httpx.AsyncClient, reader: User
) -> None:
    for method in ("POST", "DELETE"):
        response = await client.request(
            method, f"/api/users/{reader.id}/follow", headers=bearer(app, reader)
        )
        assert response.status_code == 422
        assert response.json() == {"detail": "You cannot follow yourself."}
    assert (await client.get(f"/api/users/{reader.id}")).json()["following"] == 0


async def test_an_unknown_user_is_404_and_anonymous_is_401(
    app: FastAPI, client: httpx.AsyncClient, author: User, reader: User
) -> None:
    for method in ("POST", "DELETE"):
        unknown = await client.request(
            method, "/api/users/999999/follow", headers=bearer(app, reader)
        )
        anonymous = await client.request(method, f"/api/users/{author.id}/follow")
        assert (unknown.status_code, unknown.json()) == (404, {"detail": "User not found"})
        assert anonymous.status_code == 401
    assert (await client.get("/api/users/999999")).status_code == 404


async def test_the_feed_shows_followed_authors_published_posts_newest_first(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, author: User, reader: User
) -> None:
    other = await make_user(session, username="other")
    stranger = await make_user(session, username="stranger")
    start = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    await make_posts(session, author, 3, start=start)
    await make_posts(session, other, 3, start=start + timedelta(seconds=30))
    await make_posts(session, stranger, 2, start=start)
    session.add_all(
        [
            Post(title="Draft", content="x", user_id=author.id, status="draft"),
            Post(
                title="Scheduled",
                content="x",
                user_id=author.id,
                published_at=datetime.now(UTC) + timedelta(days=1),
            ),
        ]
    )
    await session.commit()
    headers = bearer(app, reader)
    for followee in (author, other):
        await client.post(f"/api/users/{followee.id}/follow", headers=headers)
    await client.post(f"/api/posts/{(await first_post_id(client, other))}/like", headers=headers)

    pages, cursor = [], None
    while True:
        params = {"limit": 4} | ({"cursor": cursor} if cursor else {})
        response = await client.get("/api/feed", params=params, headers=headers)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break

    titles = [post["title"] for page in pages for post in page["posts"]]
    assert titles == [
        "Post 3 by other",
        "Post 3 by author",
        "Post 2 by other",
        "Post 2 by author",
        "Post 1 by other",
        "Post 1 by author",
    ]
    assert [page["has_more"] for page in pages] == [True, False]
    assert pages[0]["posts"][0]["liked"] is True
    assert pages[0]["posts"][0]["author"]["username"] == "other"
    assert set(pages[0]["posts"][0]) >= {"content_html", "tags", "likes", "excerpt"}


async def test_the_feed_shows_every_post_of_an_instant_a_page_at_a_time(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, author: User, reader: User
) -> None:
    # Two followed authors publish at the same instant: the cursor is (published_at, id), so
    # the posts of one instant must come newest id first, or the next page skips one.
    other = await make_user(session, username="other")
    start = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    await make_posts(session, author, 1, start=start)
    await make_posts(session, other, 1, start=start)
    headers = bearer(app, reader)
    for followee in (author, other):
        await client.post(f"/api/users/{followee.id}/follow", headers=headers)

    titles, cursor = [], None
    while True:
        params = {"limit": 1} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/feed", params=params, headers=headers)).json()
        titles += [post["title"] for post in page["posts"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert titles == ["Post 1 by other", "Post 1 by author"]


async def first_post_id(client: httpx.AsyncClient, user: User) -> int:
    page = (await client.get(f"/api/users/{user.id}/posts", params={"limit": 1})).json()
    post_id: int = page["posts"][0]["id"]
    return post_id


async def test_the_feed_needs_a_token_and_a_good_cursor(
    app: FastAPI, client: httpx.AsyncClient, reader: User
) -> None:
    anonymous = await client.get("/api/feed")
    bad_cursor = await client.get(
        "/api/feed", params={"cursor": "not-a-cursor"}, headers=bearer(app, reader)
    )
    empty = await client.get("/api/feed", headers=bearer(app, reader))

    assert anonymous.status_code == 401
    assert bad_cursor.status_code == 422
    assert bad_cursor.json()["detail"][0]["loc"] == ["query", "cursor"]
    assert empty.json() == {"posts": [], "limit": 10, "has_more": False, "next_cursor": None}
