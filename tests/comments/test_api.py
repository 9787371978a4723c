"""The comments API: shapes, validation, a walk through the pages, and the posts that take no
comments. Every test runs on SQLite and on PostgreSQL."""

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from fastblog.comments.models import Comment
from fastblog.db import utcnow
from fastblog.posts.models import DRAFT, Post
from tests.comments.helpers import api_comment, make_comments
from tests.factories import login, make_posts, make_user

pytestmark = pytest.mark.anyio


async def test_a_comment_is_created_and_listed_with_its_author(
    client: httpx.AsyncClient, post: Post, reader: User
) -> None:
    created = await api_comment(client, reader, post.id, "Nice *post*, see https://example.com")

    assert created.status_code == 201, created.text
    comment = created.json()
    assert set(comment) == {"id", "body", "body_html", "created_at", "author", "status"}
    assert comment["status"] == "approved"  # an author (the default role) never waits
    assert comment["body"] == "Nice *post*, see https://example.com"
    assert "<em>post</em>" in comment["body_html"]
    assert comment["author"] == {
        "id": reader.id,
        "username": "reader",
        "image_path": "/static/img/default-avatar.png",
    }
    listed = await client.get(f"/api/posts/{post.id}/comments")
    assert listed.status_code == 200
    assert listed.json() == {"comments": [comment], "next_cursor": None}


async def test_the_post_shows_its_comment_count(
    client: httpx.AsyncClient, session: AsyncSession, post: Post, reader: User
) -> None:
    assert (await client.get(f"/api/posts/{post.id}")).json()["comments"] == 0
    for _ in range(3):
        assert (await api_comment(client, reader, post.id)).status_code == 201

    assert (await client.get(f"/api/posts/{post.id}")).json()["comments"] == 3
    [listed] = (await client.get("/api/posts")).json()["posts"]
    assert listed["comments"] == 3


async def test_the_body_is_trimmed(client: httpx.AsyncClient, post: Post, reader: User) -> None:
    response = await api_comment(client, reader, post.id, "  \n Hello there \n\t ")

    assert response.status_code == 201
    assert response.json()["body"] == "Hello there"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "Must not be empty."),
        (" \n\t ", "A comment needs some text, not only blanks"),
        ("x" * 5_001, "Must be at most 5,000 characters long."),
        ("nul \x00 byte", "Must not contain the NUL character."),
        (None, "Must be text."),
        (42, "Must be text."),
    ],
)
async def test_bad_bodies_are_a_422_on_body(
    client: httpx.AsyncClient, post: Post, reader: User, body: object, message: str
) -> None:
    response = await api_comment(client, reader, post.id, body)

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "body"]
    assert error["msg"] == message
    listed = await client.get(f"/api/posts/{post.id}/comments")
    assert listed.json()["comments"] == []


async def test_a_comment_of_5000_characters_is_taken(
    client: httpx.AsyncClient, post: Post, reader: User
) -> None:
    response = await api_comment(client, reader, post.id, "y" * 5_000)

    assert response.status_code == 201
    assert len(response.json()["body"]) == 5_000


async def test_a_walk_through_the_pages_sees_every_comment_once_oldest_first(
    client: httpx.AsyncClient, session: AsyncSession, post: Post, author: User, reader: User
) -> None:
    comments = await make_comments(session, post, reader, 30)
    # Five more written in the same microsecond as the 30th: the id breaks the tie.
    comments += await make_comments(
        session, post, author, 5, start=comments[-1].created_at - timedelta(seconds=1)
    )
    for comment in comments[-5:]:
        comment.created_at = comments[29].created_at
    await session.commit()

    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 8, **({"cursor": cursor} if cursor else {})}
        response = await client.get(f"/api/posts/{post.id}/comments", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        seen += [comment["id"] for comment in page["comments"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert len(page["comments"]) == 8

    assert seen == [comment.id for comment in comments]
    assert pages == 5  # 8 + 8 + 8 + 8 + 3


async def test_the_default_page_holds_20(
    client: httpx.AsyncClient, session: AsyncSession, post: Post, reader: User
) -> None:
    await make_comments(session, post, reader, 21)

    page = (await client.get(f"/api/posts/{post.id}/comments")).json()

    assert len(page["comments"]) == 20
    assert page["next_cursor"] is not None


async def test_the_comments_of_a_post_taken_back_to_draft_are_hidden_with_it(
    client: httpx.AsyncClient, session: AsyncSession, post: Post, reader: User
) -> None:
    await make_comments(session, post, reader, 2)
    post.status, post.published_at = DRAFT, None
    await session.commit()

    response = await client.get(f"/api/posts/{post.id}/comments")

    assert response.status_code == 404
    assert response.json() == {"detail": "Post not found"}


async def test_a_posts_comments_are_its_own(
    client: httpx.AsyncClient, session: AsyncSession, post: Post, author: User, reader: User
) -> None:
    [other] = await make_posts(session, author, 1, start=post.date_posted)
    await make_comments(session, other, reader, 2)
    mine = await make_comments(session, post, reader, 1)

    page = (await client.get(f"/api/posts/{post.id}/comments")).json()

    assert [comment["id"] for comment in page["comments"]] == [c.id for c in mine]


async def test_a_page_that_holds_the_last_comment_offers_no_next_page(
    client: httpx.AsyncClient, session: AsyncSession, post: Post, reader: User
) -> None:
    """Exactly a page of comments: no cursor to an empty page."""
    comments = await make_comments(session, post, reader, 3)

    page = (await client.get(f"/api/posts/{post.id}/comments", params={"limit": 3})).json()

    assert [comment["id"] for comment in page["comments"]] == [c.id for c in comments]
    assert page["next_cursor"] is None


@pytest.mark.parametrize(
    ("query", "field"),
    [("cursor=not-a-cursor", "cursor"), ("limit=0", "limit"), ("limit=101", "limit")],
)
async def test_bad_paging_is_a_422_on_its_parameter(
    client: httpx.AsyncClient, post: Post, query: str, field: str
) -> None:
    response = await client.get(f"/api/posts/{post.id}/comments?{query}")

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", field]


async def test_anonymous_comments_are_401(client: httpx.AsyncClient, post: Post) -> None:
    response = await api_comment(client, None, post.id)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    bad_token = {"Authorization": "Bearer not-a-token"}
    response = await client.post(
        f"/api/posts/{post.id}/comments", json={"body": "x"}, headers=bad_token
    )
    assert response.status_code == 401


async def test_a_deleted_account_cannot_comment_with_its_old_token(
    client: httpx.AsyncClient, post: Post, reader: User
) -> None:
    headers = await login(client, reader)
    assert (await client.delete(f"/api/users/{reader.id}", headers=headers)).status_code == 204

    response = await client.post(
        f"/api/posts/{post.id}/comments", json={"body": "still here?"}, headers=headers
    )

    assert response.status_code == 401
    assert response.json()["detail"].startswith("Your account no longer exists")


@pytest.mark.parametrize("kind", ["unknown", "draft", "scheduled"])
async def test_posts_readers_cannot_see_take_no_comments(
    client: httpx.AsyncClient, session: AsyncSession, author: User, kind: str
) -> None:
    if kind == "unknown":
        post_id = 999_999
    else:
        later = utcnow() + timedelta(days=1)
        post = Post(
            title="Not yet",
            content="Soon.",
            user_id=author.id,
            status=DRAFT if kind == "draft" else "published",
            published_at=None if kind == "draft" else later,
        )
        session.add(post)
        await session.commit()
        post_id = post.id

    # Not even its author: a post takes comments once readers can see it.
    created = await api_comment(client, author, post_id)
    listed = await client.get(f"/api/posts/{post_id}/comments")

    assert created.status_code == 404
    assert created.json() == {"detail": "Post not found"}
    assert listed.status_code == 404
    assert listed.json() == {"detail": "Post not found"}


async def test_deleting_a_comment_that_is_not_on_the_post_is_404(
    client: httpx.AsyncClient, session: AsyncSession, post: Post, author: User
) -> None:
    (other_post,) = await make_posts(session, author, 1)
    (comment,) = await make_comments(session, other_post, author, 1)
    headers = await login(client, author)

    wrong_post = await client.delete(f"/api/posts/{post.id}/comments/{comment.id}", headers=headers)
    unknown = await client.delete(f"/api/posts/{post.id}/comments/424242", headers=headers)
    no_post = await client.delete(f"/api/posts/424242/comments/{comment.id}", headers=headers)

    assert wrong_post.status_code == 404
    assert wrong_post.json() == {"detail": "Comment not found on this post"}
    assert unknown.json() == {"detail": "Comment not found on this post"}
    assert no_post.status_code == 404
    assert no_post.json() == {"detail": "Post not found"}
    listed = await client.get(f"/api/posts/{other_post.id}/comments")
    assert [c["id"] for c in listed.json()["comments"]] == [comment.id]


async def test_a_post_taken_back_to_draft_keeps_its_comments_deletable_by_its_author_only(
    client: httpx.AsyncClient, session: AsyncSession, post: Post, author: User, reader: User
) -> None:
    """Readers cannot see a draft, nor its comments: a comment's writer is told the post is
    not found; the post's author still sees the draft and may delete what was said on it."""
    first, second = await make_comments(session, post, reader, 2)
    post.status, post.published_at = DRAFT, None
    await session.commit()

    by_its_writer = await client.delete(
        f"/api/posts/{post.id}/comments/{first.id}", headers=await login(client, reader)
    )
    by_the_posts_author = await client.delete(
        f"/api/posts/{post.id}/comments/{second.id}", headers=await login(client, author)
    )

    assert (by_its_writer.status_code, by_its_writer.json()) == (404, {"detail": "Post not found"})
    assert by_the_posts_author.status_code == 204
    left = await session.scalars(select(Comment.id).where(Comment.post_id == post.id))
    assert list(left) == [first.id]


async def test_someone_elses_comment_is_refused_in_words_and_kept(
    client: httpx.AsyncClient, session: AsyncSession, post: Post, reader: User
) -> None:
    (comment,) = await make_comments(session, post, reader, 1)
    stranger = await make_user(session, username="stranger", role="reader")

    refused = await client.delete(
        f"/api/posts/{post.id}/comments/{comment.id}", headers=await login(client, stranger)
    )

    assert refused.status_code == 403
    assert refused.json() == {
        "detail": "Only the comment's author, the post's author or an editor can delete it"
    }
    listed = await client.get(f"/api/posts/{post.id}/comments")
    assert [c["id"] for c in listed.json()["comments"]] == [comment.id]


async def test_a_token_from_before_logging_out_everywhere_cannot_delete_a_comment(
    client: httpx.AsyncClient, session: AsyncSession, post: Post, reader: User
) -> None:
    (comment,) = await make_comments(session, post, reader, 1)
    old_token = await login(client, reader)
    reader.auth_version += 1  # what "log out everywhere" and a password change do
    await session.commit()

    refused = await client.delete(f"/api/posts/{post.id}/comments/{comment.id}", headers=old_token)

    assert refused.status_code == 401
    assert refused.json() == {
        "detail": "Your account no longer exists, or you logged out everywhere"
    }
    listed = await client.get(f"/api/posts/{post.id}/comments")
    assert [c["id"] for c in listed.json()["comments"]] == [comment.id]
