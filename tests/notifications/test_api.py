"""Notifications through the API: who is told what, when, and what disappears with what."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from fastblog.posts.models import Post
from tests.accounts import bearer
from tests.comments.moderation import SetMode, make_role
from tests.factories import make_posts, make_user

pytestmark = pytest.mark.anyio


async def notifications(
    app: FastAPI, client: httpx.AsyncClient, user: User, **params: Any
) -> dict[str, Any]:
    response = await client.get("/api/notifications", params=params, headers=bearer(app, user))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def comment(
    app: FastAPI, client: httpx.AsyncClient, post: Post, user: User, body: str
) -> Any:
    response = await client.post(
        f"/api/posts/{post.id}/comments", json={"body": body}, headers=bearer(app, user)
    )
    assert response.status_code == 201, response.text
    return response.json()


def kinds(page: dict[str, Any]) -> list[tuple[str, str]]:
    return [(note["kind"], note["actor"]["username"]) for note in page["notifications"]]


async def test_a_comment_follow_and_like_notify_the_author_newest_first(
    app: FastAPI, client: httpx.AsyncClient, author: User, reader: User, post: Post
) -> None:
    written = await comment(app, client, post, reader, "Lovely *post*, thanks!")
    await client.post(f"/api/users/{author.id}/follow", headers=bearer(app, reader))
    await client.post(f"/api/posts/{post.id}/like", headers=bearer(app, reader))

    page = await notifications(app, client, author)

    assert kinds(page) == [("like", "reader"), ("follow", "reader"), ("comment", "reader")]
    assert page["unread"] == 3
    assert page["next_cursor"] is None
    like, follow, commented = page["notifications"]
    assert commented["post"] == {"id": post.id, "title": post.title, "slug": post.slug}
    assert commented["comment"] == {"id": written["id"], "excerpt": "Lovely *post*, thanks!"}
    assert commented["actor"]["image_path"] == "/static/img/default-avatar.png"
    assert like["post"]["id"] == post.id
    assert like["comment"] is None
    assert follow["post"] is None
    assert follow["comment"] is None
    assert not any(note["read"] for note in page["notifications"])
    # The reader, who did all that, is told nothing.
    assert (await notifications(app, client, reader))["notifications"] == []


async def test_nobody_is_notified_of_their_own_comment_or_like(
    app: FastAPI, client: httpx.AsyncClient, author: User, post: Post
) -> None:
    await comment(app, client, post, author, "Replying under my own post")
    await client.post(f"/api/posts/{post.id}/like", headers=bearer(app, author))

    page = await notifications(app, client, author)

    assert page == {"notifications": [], "unread": 0, "next_cursor": None}


async def test_a_waiting_comment_notifies_nobody_until_it_is_approved(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    author: User,
    post: Post,
    comments_mode: SetMode,
) -> None:
    comments_mode("approve_all")
    newcomer = await make_role(session, "reader", username="newcomer")
    editor = await make_role(session, "editor")
    waiting = await comment(app, client, post, newcomer, "First!")
    assert waiting["status"] == "pending"

    assert (await notifications(app, client, author))["notifications"] == []

    approved = await client.post(
        f"/api/comments/{waiting['id']}/approve", headers=bearer(app, editor)
    )
    assert approved.status_code == 200
    again = await client.post(f"/api/comments/{waiting['id']}/approve", headers=bearer(app, editor))
    assert again.status_code == 200

    page = await notifications(app, client, author)
    assert kinds(page) == [("comment", "newcomer")]  # once, though approved twice
    assert page["notifications"][0]["comment"]["id"] == waiting["id"]
    assert page["unread"] == 1


async def test_an_unlike_an_unfollow_and_a_deleted_comment_take_their_notification_away(
    app: FastAPI, client: httpx.AsyncClient, author: User, reader: User, post: Post
) -> None:
    written = await comment(app, client, post, reader, "I take it back")
    await client.post(f"/api/users/{author.id}/follow", headers=bearer(app, reader))
    await client.post(f"/api/posts/{post.id}/like", headers=bearer(app, reader))
    assert (await notifications(app, client, author))["unread"] == 3

    await client.delete(f"/api/posts/{post.id}/like", headers=bearer(app, reader))
    await client.delete(f"/api/users/{author.id}/follow", headers=bearer(app, reader))
    deleted = await client.delete(
        f"/api/posts/{post.id}/comments/{written['id']}", headers=bearer(app, reader)
    )
    assert deleted.status_code == 204

    assert await notifications(app, client, author) == {
        "notifications": [],
        "unread": 0,
        "next_cursor": None,
    }


async def test_a_deleted_post_or_actor_leaves_no_notification_and_the_count_follows(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, author: User, reader: User
) -> None:
    first, second = await make_posts(session, author, 2)
    fan = await make_user(session, username="fan")
    await comment(app, client, first, reader, "On the first")
    await client.post(f"/api/posts/{second.id}/like", headers=bearer(app, reader))
    await client.post(f"/api/users/{author.id}/follow", headers=bearer(app, fan))
    await client.post(f"/api/posts/{second.id}/like", headers=bearer(app, fan))
    assert (await notifications(app, client, author))["unread"] == 4

    gone = await client.delete(f"/api/posts/{first.id}", headers=bearer(app, author))
    assert gone.status_code == 204
    assert kinds(await notifications(app, client, author)) == [
        ("like", "fan"),
        ("follow", "fan"),
        ("like", "reader"),
    ]

    left = await client.delete(f"/api/users/{fan.id}", headers=bearer(app, fan))
    assert left.status_code == 204
    page = await notifications(app, client, author)
    assert kinds(page) == [("like", "reader")]
    assert page["unread"] == 1
    me = (await client.get("/api/users/me", headers=bearer(app, author))).json()
    assert me["unread_notifications"] == 1


async def test_pages_follow_the_cursor_without_gaps_or_repeats(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, author: User
) -> None:
    posts = await make_posts(session, author, 5)
    fans = [await make_user(session, username=f"fan{n}") for n in range(5)]
    for fan in fans:
        for post in posts:
            await client.post(f"/api/posts/{post.id}/like", headers=bearer(app, fan))

    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 10, **({"cursor": cursor} if cursor else {})}
        page = await notifications(app, client, author, **params)
        seen += [note["id"] for note in page["notifications"]]
        assert page["unread"] == 25
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert len(seen) == 25
    assert seen == sorted(seen, reverse=True)  # newest first, each once


@pytest.mark.parametrize("cursor", ["nonsense", "djE", "WyJ2MSIsMCwwXQ"])
async def test_a_cursor_the_list_did_not_give_is_a_plain_422(
    app: FastAPI, client: httpx.AsyncClient, author: User, cursor: str
) -> None:
    response = await client.get(
        "/api/notifications", params={"cursor": cursor}, headers=bearer(app, author)
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "cursor"]


async def test_marking_read_up_to_an_id_leaves_newer_ones_unread(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, author: User
) -> None:
    fans = [await make_user(session, username=f"fan{n}") for n in range(3)]
    for fan in fans:
        await client.post(f"/api/users/{author.id}/follow", headers=bearer(app, fan))
    oldest, *_ = reversed((await notifications(app, client, author))["notifications"])

    marked = await client.post(
        "/api/notifications/read", json={"up_to": oldest["id"]}, headers=bearer(app, author)
    )
    assert marked.status_code == 200
    assert marked.json() == {"unread": 2}
    page = await notifications(app, client, author)
    assert [note["read"] for note in page["notifications"]] == [False, False, True]

    everything = await client.post("/api/notifications/read", headers=bearer(app, author))
    assert everything.json() == {"unread": 0}
    page = await notifications(app, client, author)
    assert all(note["read"] for note in page["notifications"])
    assert page["unread"] == 0


async def test_one_users_notifications_are_theirs_alone(
    app: FastAPI, client: httpx.AsyncClient, author: User, reader: User, post: Post
) -> None:
    await client.post(f"/api/users/{author.id}/follow", headers=bearer(app, reader))

    marked = await client.post("/api/notifications/read", headers=bearer(app, reader))

    assert marked.json() == {"unread": 0}
    assert (await notifications(app, client, author))["unread"] == 1
    assert (await client.get("/api/notifications")).status_code == 401
    assert (await client.post("/api/notifications/read")).status_code == 401


@pytest.mark.parametrize("up_to", [0, -1, 2**63, "all", None])
async def test_a_bad_up_to_is_a_422_on_that_field(
    app: FastAPI, client: httpx.AsyncClient, author: User, up_to: Any
) -> None:
    response = await client.post(
        "/api/notifications/read", json={"up_to": up_to}, headers=bearer(app, author)
    )

    if up_to is None:  # null: all of them, as when it is left out
        assert response.status_code == 200
        return
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "up_to"]


async def test_the_mail_setting_is_part_of_the_account(
    app: FastAPI, client: httpx.AsyncClient, author: User
) -> None:
    me = await client.get("/api/users/me", headers=bearer(app, author))
    assert me.json()["notify_by_mail"] is False

    turned_on = await client.patch(
        "/api/users/me", json={"notify_by_mail": True}, headers=bearer(app, author)
    )
    refused = await client.patch(
        "/api/users/me", json={"notify_by_mail": None}, headers=bearer(app, author)
    )

    assert turned_on.status_code == 200
    assert turned_on.json()["notify_by_mail"] is True
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "notify_by_mail"]
    me = await client.get("/api/users/me", headers=bearer(app, author))
    assert me.json()["notify_by_mail"] is True
