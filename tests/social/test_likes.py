"""Likes through the API: idempotent, counted on the post, shown as `likes` and `liked`."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.dependencies import get_token_user_id
from fastblog.accounts.models import User
from fastblog.posts.models import Post
from tests.accounts import bearer
from tests.factories import make_user

pytestmark = pytest.mark.anyio


async def test_liking_twice_is_one_like_and_unliking_twice_is_none(
    app: FastAPI, client: httpx.AsyncClient, post: Post, reader: User
) -> None:
    url, headers = f"/api/posts/{post.id}/like", bearer(app, reader)

    first = await client.post(url, headers=headers)
    second = await client.post(url, headers=headers)
    assert (first.status_code, first.json()) == (200, {"liked": True, "likes": 1})
    assert (second.status_code, second.json()) == (200, {"liked": True, "likes": 1})

    taken_back = await client.delete(url, headers=headers)
    again = await client.delete(url, headers=headers)
    assert (taken_back.status_code, taken_back.json()) == (200, {"liked": False, "likes": 0})
    assert (again.status_code, again.json()) == (200, {"liked": False, "likes": 0})


async def test_post_json_says_how_many_like_it_and_whether_you_do(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, post: Post, reader: User
) -> None:
    others = [await make_user(session) for _ in range(2)]
    for user in [reader, *others]:
        await client.post(f"/api/posts/{post.id}/like", headers=bearer(app, user))
    stranger = await make_user(session)

    anonymous = (await client.get(f"/api/posts/{post.id}")).json()
    as_reader = (await client.get(f"/api/posts/{post.id}", headers=bearer(app, reader))).json()
    as_stranger = (await client.get(f"/api/posts/{post.id}", headers=bearer(app, stranger))).json()
    listed = (await client.get("/api/posts", headers=bearer(app, reader))).json()["posts"]
    listed_anonymously = (await client.get("/api/posts")).json()["posts"]

    assert (anonymous["likes"], anonymous["liked"]) == (3, False)
    assert (as_reader["likes"], as_reader["liked"]) == (3, True)
    assert (as_stranger["likes"], as_stranger["liked"]) == (3, False)
    assert [(p["likes"], p["liked"]) for p in listed] == [(3, True)]
    assert [(p["likes"], p["liked"]) for p in listed_anonymously] == [(3, False)]


async def test_a_new_post_has_no_likes(
    app: FastAPI, client: httpx.AsyncClient, author: User
) -> None:
    response = await client.post(
        "/api/posts", json={"title": "Fresh", "content": "Words."}, headers=bearer(app, author)
    )

    assert response.status_code == 201
    assert (response.json()["likes"], response.json()["liked"]) == (0, False)


async def test_anonymous_likes_are_401(client: httpx.AsyncClient, post: Post) -> None:
    for method in ("POST", "DELETE"):
        response = await client.request(method, f"/api/posts/{post.id}/like")
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("method", ["POST", "DELETE"])
async def test_unknown_draft_and_scheduled_posts_are_404(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    author: User,
    reader: User,
    method: str,
) -> None:
    draft = Post(title="Draft", content="Not yet.", user_id=author.id, status="draft")
    later = datetime.now(UTC) + timedelta(days=1)
    scheduled = Post(title="Later", content="Soon.", user_id=author.id, published_at=later)
    session.add_all([draft, scheduled])
    await session.commit()

    for post_id in (draft.id, scheduled.id, 999_999):
        for user in (reader, author):  # not even the author: readers cannot see it yet
            response = await client.request(
                method, f"/api/posts/{post_id}/like", headers=bearer(app, user)
            )
            assert response.status_code == 404, (post_id, response.text)
            assert response.json() == {"detail": "Post not found"}
    assert (await client.get(f"/api/posts/{draft.id}", headers=bearer(app, author))).json()[
        "likes"
    ] == 0


async def test_a_bad_post_id_is_422(app: FastAPI, client: httpx.AsyncClient, reader: User) -> None:
    response = await client.post("/api/posts/0/like", headers=bearer(app, reader))

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "post_id"]


async def test_a_post_taken_back_to_draft_keeps_its_likes_but_cannot_be_liked(
    app: FastAPI, client: httpx.AsyncClient, post: Post, author: User, reader: User
) -> None:
    await client.post(f"/api/posts/{post.id}/like", headers=bearer(app, reader))
    patched = await client.patch(
        f"/api/posts/{post.id}", json={"status": "draft"}, headers=bearer(app, author)
    )
    assert patched.status_code == 200

    response = await client.delete(f"/api/posts/{post.id}/like", headers=bearer(app, reader))

    assert response.status_code == 404
    assert patched.json()["likes"] == 1


async def test_a_like_from_an_account_deleted_meanwhile_is_401(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, post: Post
) -> None:
    """The account is deleted between the token's check and the like's write (the override
    stands for a token checked just before): the write names why, and nothing is counted."""
    gone = await make_user(session, username="gone")
    gone_id = gone.id
    await session.delete(gone)
    await session.commit()
    app.dependency_overrides[get_token_user_id] = lambda: gone_id
    try:
        response = await client.post(f"/api/posts/{post.id}/like")
    finally:
        del app.dependency_overrides[get_token_user_id]

    assert response.status_code == 401
    assert response.json() == {"detail": "Your account no longer exists."}
    assert (await client.get(f"/api/posts/{post.id}")).json()["likes"] == 0


async def test_a_list_says_liked_only_of_the_posts_you_like(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, post: Post, reader: User
) -> None:
    other = Post(title="Not liked by the reader", content="x", user_id=post.user_id)
    session.add(other)
    await session.commit()
    await client.post(f"/api/posts/{post.id}/like", headers=bearer(app, reader))
    await client.post(f"/api/posts/{other.id}/like", headers=bearer(app, await make_user(session)))

    listed = (await client.get("/api/posts", headers=bearer(app, reader))).json()["posts"]

    assert {p["id"]: (p["likes"], p["liked"]) for p in listed} == {
        post.id: (1, True),
        other.id: (1, False),
    }
