"""An N+1 regression fails here: each page costs the same few statements however many authors."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from fastblog.comments.models import Comment
from fastblog.posts.models import Post, PostTag, Tag
from tests.accounts import bearer
from tests.factories import StatementCounter, make_posts, make_user
from tests.html import read_page
from tests.reliability.browser import browser_login

pytestmark = pytest.mark.anyio

AUTHORS = 5


async def many_authors(session: AsyncSession) -> tuple[list[User], list[Post]]:
    """Five authors whose 4 posts each interleave, so any page shows several of them; every
    post has two tags of its own and one they share."""
    users = [await make_user(session, username=f"author{n}") for n in range(AUTHORS)]
    posts = []
    for n, user in enumerate(users):
        start = datetime(2026, 3, 3, 9, 0, tzinfo=UTC) + timedelta(seconds=n)
        posts += await make_posts(session, user, 4, start=start)
    tags = [Tag(name=f"tag{n}") for n in range(2 * len(posts))] + [Tag(name="shared")]
    session.add_all(tags)
    await session.flush()
    session.add_all(
        PostTag(post_id=post.id, tag_id=tag.id)
        for n, post in enumerate(posts)
        for tag in (tags[2 * n], tags[2 * n + 1], tags[-1])
    )
    await session.commit()
    return users, posts


async def measure(
    client: httpx.AsyncClient, count_statements: StatementCounter, url: str
) -> tuple[httpx.Response, list[str]]:
    with count_statements() as statements:
        response = await client.get(url)
    assert response.status_code == 200, response.text
    return response, list(statements)


async def test_api_page_of_posts_with_authors_takes_two_statements(
    client: httpx.AsyncClient, session: AsyncSession, count_statements: StatementCounter
) -> None:
    users, posts = await many_authors(session)
    await comments_by_everyone(session, users, posts[-1])

    response, statements = await measure(client, count_statements, "/api/posts?limit=20")

    assert [post["comments"] for post in response.json()["posts"]] == [25] + [0] * 19

    assert {post["author"]["username"] for post in response.json()["posts"]} == {
        f"author{n}" for n in range(AUTHORS)
    }
    assert all(len(post["tags"]) == 3 for post in response.json()["posts"])
    assert 1 <= len(statements) <= 2, statements


@pytest.mark.parametrize("url", ["/api/posts?tag=shared&limit=20", "/tags/shared", "/?tag=shared"])
async def test_a_tags_page_takes_at_most_three_statements(
    client: httpx.AsyncClient, session: AsyncSession, count_statements: StatementCounter, url: str
) -> None:
    await many_authors(session)

    response, statements = await measure(client, count_statements, url)

    assert "author3" in response.text
    assert 1 <= len(statements) <= (2 if url.startswith("/api") else 3), statements


@pytest.mark.parametrize("tag", ["", "?tag=shared"])
async def test_a_users_page_takes_one_statement(
    client: httpx.AsyncClient,
    session: AsyncSession,
    count_statements: StatementCounter,
    tag: str,
) -> None:
    """The page's statement finds the user too: no look-up of the account before it."""
    users, _ = await many_authors(session)

    response, statements = await measure(
        client, count_statements, f"/api/users/{users[3].id}/posts{tag}"
    )

    assert {post["author"]["username"] for post in response.json()["posts"]} == {"author3"}
    assert response.json()["total"] == 4
    assert len(statements) == 1, statements


async def test_the_tag_list_takes_one_statement(
    client: httpx.AsyncClient, session: AsyncSession, count_statements: StatementCounter
) -> None:
    await many_authors(session)

    response, statements = await measure(client, count_statements, "/api/tags")

    assert response.json()["tags"][0] == {"name": "shared", "posts": 4 * AUTHORS}
    assert len(statements) == 1, statements


async def test_a_repeated_tag_list_takes_one_small_statement(
    client: httpx.AsyncClient, session: AsyncSession, count_statements: StatementCounter
) -> None:
    """The process keeps the list (fastblog.posts.tag_list_cache): asked again, it reads
    only the version of the tags' counters (eight rows) to know the list is still right."""
    await many_authors(session)
    first, _ = await measure(client, count_statements, "/api/tags")

    again, statements = await measure(client, count_statements, "/api/tags")

    assert again.content == first.content
    assert len(statements) == 1, statements
    assert "tag_count_versions" in statements[0], statements
    assert "tag_post_counts" not in statements[0], statements


async def test_api_one_post_takes_at_most_two_statements(
    client: httpx.AsyncClient, session: AsyncSession, count_statements: StatementCounter
) -> None:
    _, posts = await many_authors(session)

    response, statements = await measure(client, count_statements, f"/api/posts/{posts[0].id}")

    assert response.json()["author"]["username"] == "author0"
    assert 1 <= len(statements) <= 2, statements


@pytest.mark.parametrize("path", ["/", "/posts", "/posts?page=2"])
async def test_home_page_takes_at_most_three_statements(
    client: httpx.AsyncClient,
    session: AsyncSession,
    count_statements: StatementCounter,
    path: str,
) -> None:
    users, posts = await many_authors(session)
    await comments_by_everyone(session, users, posts[-1 if path != "/posts?page=2" else 0])

    response, statements = await measure(client, count_statements, path)

    assert "25 comments" in response.text

    assert sum(f"author{n}</span>" in response.text for n in range(AUTHORS)) == AUTHORS
    assert "#shared" in response.text
    assert 1 <= len(statements) <= 3, statements


async def comments_by_everyone(session: AsyncSession, users: list[User], post: Post) -> None:
    """25 comments on the post, by every author in turn."""
    start = datetime(2026, 4, 1, tzinfo=UTC)
    session.add_all(
        Comment(
            post_id=post.id,
            user_id=users[n % len(users)].id,
            body=f"Comment {n}",
            body_html=f"<p>Comment {n}</p>",
            created_at=start + timedelta(seconds=n),
        )
        for n in range(25)
    )
    await session.commit()


async def test_post_page_takes_two_statements(
    client: httpx.AsyncClient, session: AsyncSession, count_statements: StatementCounter
) -> None:
    """The post with its author, then its neighbours, more by its author and its first
    comments with theirs (one UNION ALL)."""
    users, posts = await many_authors(session)
    await comments_by_everyone(session, users, posts[5])

    url = f"/posts/{posts[5].id}/{posts[5].slug}"
    response, statements = await measure(client, count_statements, url)

    assert "25 comments" in response.text
    assert all(f"Comment {n}</p>" in response.text for n in range(20))
    assert "More comments" in response.text
    assert "author1" in response.text
    assert "Previous post" in response.text
    assert "Next post" in response.text
    assert "More by author1" in response.text
    assert len(statements) == 2, statements


async def test_post_page_for_a_logged_in_reader_takes_three_statements(
    client: httpx.AsyncClient, session: AsyncSession, count_statements: StatementCounter
) -> None:
    """One more than for anyone else: the reader shown in the header (and the comment form)."""
    users, posts = await many_authors(session)
    await comments_by_everyone(session, users, posts[5])
    await browser_login(client, users[0])

    response, statements = await measure(
        client, count_statements, f"/posts/{posts[5].id}/{posts[5].slug}"
    )

    assert "More by author1" in response.text
    assert "Comment 19</p>" in response.text
    assert 'action="/posts/' in response.text
    assert len(statements) == 3, statements


async def test_user_pages_take_at_most_three_statements(
    client: httpx.AsyncClient, session: AsyncSession, count_statements: StatementCounter
) -> None:
    users, _ = await many_authors(session)

    for url in (f"/users/{users[2].id}/posts", f"/api/users/{users[2].id}/posts"):
        response, statements = await measure(client, count_statements, url)
        assert "author2" in response.text
        assert 1 <= len(statements) <= 3, (url, statements)


@pytest.mark.parametrize("feed", ["site", "author"])
async def test_a_feed_is_one_statement(
    client: httpx.AsyncClient,
    session: AsyncSession,
    count_statements: StatementCounter,
    feed: str,
) -> None:
    users, _ = await many_authors(session)
    url = "/feed.xml" if feed == "site" else f"/users/{users[1].id}/feed.xml"

    response, statements = await measure(client, count_statements, url)

    assert response.text.count("<entry>") == (20 if feed == "site" else 4)
    assert len(statements) == 1, statements


async def test_a_reset_request_writes_the_token_and_its_mail_in_a_few_statements(
    client: httpx.AsyncClient, session: AsyncSession, count_statements: StatementCounter
) -> None:
    """The background task's too (it runs within the request here): a look-up, the earlier
    tokens deleted, the token and its mail inserted, in one transaction (fastblog.outbox)."""
    await make_user(session, email="kim@example.com")

    with count_statements() as statements:
        known = await client.post("/api/users/forgot-password", json={"email": "kim@example.com"})
    known_statements = list(statements)
    with count_statements() as statements:
        unknown = await client.post("/api/users/forgot-password", json={"email": "x@example.com"})

    assert known.status_code == unknown.status_code == 202
    inserts = sorted(s.split()[2] for s in known_statements if s.startswith("INSERT"))
    assert inserts == ["mail_outbox", "password_reset_tokens"], known_statements
    assert len(known_statements) <= 5, known_statements  # with SQLite's BEGIN IMMEDIATE
    assert not [s for s in statements if s.startswith(("INSERT", "DELETE"))], statements
    assert len(statements) <= 2, statements


async def test_a_page_by_cursor_costs_what_page_one_costs(
    client: httpx.AsyncClient, session: AsyncSession, count_statements: StatementCounter
) -> None:
    users, _ = await many_authors(session)
    first = (await client.get("/api/posts", params={"limit": 5})).json()
    cursor = first["next_cursor"]
    older = read_page(await client.get("/")).link("Older posts →").href
    user_first = (await client.get(f"/api/users/{users[1].id}/posts", params={"limit": 2})).json()

    for url, most in [
        (f"/api/posts?limit=5&cursor={cursor}", 1),
        (f"/api/posts?tag=shared&limit=5&cursor={cursor}", 1),
        (f"/api/users/{users[1].id}/posts?limit=2&cursor={user_first['next_cursor']}", 2),
        (older, 1),
        (f"/users/{users[1].id}/posts?cursor={cursor}", 2),
    ]:
        response, statements = await measure(client, count_statements, url)
        assert response.status_code == 200
        assert "author" in response.text
        assert len(statements) <= most, (url, statements)


@pytest.mark.parametrize("url", ["/api/search?q=post&limit=20", "/search?q=post"])
async def test_a_page_of_search_results_takes_one_statement(
    client: httpx.AsyncClient, session: AsyncSession, count_statements: StatementCounter, url: str
) -> None:
    """Ranking, snippets, authors and tags: one statement, however many authors."""
    await many_authors(session)

    response, statements = await measure(client, count_statements, url)

    assert sum(f"author{n}" in response.text for n in range(AUTHORS)) == AUTHORS
    assert "shared" in response.text
    assert len(statements) == 1, statements


async def test_a_search_that_finds_nothing_tries_at_most_four_looser_ones(
    client: httpx.AsyncClient, session: AsyncSession, count_statements: StatementCounter
) -> None:
    await many_authors(session)

    response, statements = await measure(
        client, count_statements, '/api/search?q="nothing here" -post'
    )

    assert response.json()["posts"] == []
    assert len(statements) <= 1 + 4, statements


async def like_and_follow(
    client: httpx.AsyncClient, reader_headers: dict[str, str], users: list[User], posts: list[Post]
) -> None:
    for post in posts[::3]:
        response = await client.post(f"/api/posts/{post.id}/like", headers=reader_headers)
        assert response.status_code == 200
    for user in users[:3]:
        response = await client.post(f"/api/users/{user.id}/follow", headers=reader_headers)
        assert response.status_code == 200


async def test_a_page_with_likes_and_liked_by_me_takes_two_statements(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    count_statements: StatementCounter,
) -> None:
    """Like counts ride on the posts' rows; "liked by me" is a probe per row in the same
    statement. The one more statement is the token's check (its account's auth version)."""
    users, posts = await many_authors(session)
    reader = await make_user(session, username="reader")
    headers = bearer(app, reader)
    await like_and_follow(client, headers, users, posts)

    anonymous, anonymous_statements = await measure(client, count_statements, "/api/posts?limit=20")
    with count_statements() as statements:
        logged_in = await client.get("/api/posts?limit=20", headers=headers)

    assert sum(post["likes"] for post in anonymous.json()["posts"]) == len(posts[::3])
    assert sum(post["liked"] for post in logged_in.json()["posts"]) == len(posts[::3])
    assert not any(post["liked"] for post in anonymous.json()["posts"])
    assert len(anonymous_statements) == 1, anonymous_statements  # the issue allows 2
    assert len(statements) == 2, statements  # the issue allows 3


async def test_the_feed_takes_two_statements(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    count_statements: StatementCounter,
) -> None:
    """The token's check, then the page with authors, tags, like counts and "liked by me"."""
    users, posts = await many_authors(session)
    reader = await make_user(session, username="reader")
    headers = bearer(app, reader)
    await like_and_follow(client, headers, users, posts)

    with count_statements() as statements:
        response = await client.get("/api/feed?limit=10", headers=headers)

    feed = response.json()["posts"]
    assert {post["author"]["username"] for post in feed} == {"author0", "author1", "author2"}
    assert all(len(post["tags"]) == 3 for post in feed)
    assert any(post["liked"] for post in feed)
    assert response.json()["next_cursor"] is not None
    assert len(statements) == 2, statements


async def test_a_profile_with_its_counts_takes_one_statement(
    client: httpx.AsyncClient, session: AsyncSession, count_statements: StatementCounter
) -> None:
    users, _ = await many_authors(session)

    response, statements = await measure(client, count_statements, f"/api/users/{users[1].id}")

    assert response.json()["posts"] == 4
    assert len(statements) == 1, statements


async def test_the_feed_page_takes_two_statements(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    count_statements: StatementCounter,
) -> None:
    """The reader shown in the header, then the page of the feed."""
    users, posts = await many_authors(session)
    reader = await make_user(session, username="reader")
    await like_and_follow(client, bearer(app, reader), users, posts)
    await browser_login(client, reader)

    response, statements = await measure(client, count_statements, "/feed")

    assert "author2</span>" in response.text
    assert "author3</span>" not in response.text
    assert len(statements) == 2, statements
