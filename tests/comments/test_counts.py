"""posts.comments is kept by triggers in the writes' own transactions: after any mix of
concurrent writes, and after deletions of comments, posts and accounts, every stored count
equals a recount from the rows."""

import asyncio
import random
import time

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from fastblog.accounts.roles import Role
from fastblog.comments.models import PENDING
from tests.accounts import bearer
from tests.comments.helpers import api_comment, make_comments, stored_and_recounted
from tests.comments.moderation import SetMode, make_role
from tests.factories import login, make_posts, make_user

pytestmark = pytest.mark.anyio

SECONDS = 2.0  # short and bounded: the machine is shared
WRITERS = 8


async def test_counts_equal_a_recount_after_concurrent_commenting_and_deleting(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    users = [await make_user(session, username=f"writer{n}") for n in range(WRITERS)]
    posts = [post for user in users[:3] for post in await make_posts(session, user, 2)]
    headers = [bearer(app, user) for user in users]
    statuses: list[int] = []

    async def writer(n: int) -> None:
        rng = random.Random(n)
        mine: list[tuple[int, int]] = []  # (post id, comment id)
        deadline = time.monotonic() + SECONDS
        while time.monotonic() < deadline:
            if mine and rng.random() < 0.4:
                post_id, comment_id = mine.pop(rng.randrange(len(mine)))
                response = await client.delete(
                    f"/api/posts/{post_id}/comments/{comment_id}", headers=headers[n]
                )
            else:
                post_id = rng.choice(posts).id
                response = await client.post(
                    f"/api/posts/{post_id}/comments", json={"body": "hi"}, headers=headers[n]
                )
                if response.status_code == 201:
                    mine.append((post_id, response.json()["id"]))
            statuses.append(response.status_code)

    await asyncio.gather(*(writer(n) for n in range(WRITERS)))

    assert set(statuses) <= {201, 204}, sorted(set(statuses))
    assert statuses.count(201) > 10, "the loop wrote something"
    stored, recounted = await stored_and_recounted(session)
    assert stored == recounted
    assert sum(stored.values()) > 0


async def test_deleting_an_account_removes_its_comments_and_fixes_the_counts(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    alice, bob, carol = [await make_user(session, username=name) for name in "abc"]
    (alice_post,) = await make_posts(session, alice, 1)
    (bob_post,) = await make_posts(session, bob, 1)
    await make_comments(session, alice_post, carol, 3)
    await make_comments(session, bob_post, carol, 2)
    await make_comments(session, bob_post, alice, 4)
    assert (await api_comment(client, carol, bob_post.id)).status_code == 201

    deleted = await client.delete(f"/api/users/{carol.id}", headers=await login(client, carol))

    assert deleted.status_code == 204
    stored, recounted = await stored_and_recounted(session)
    assert stored == recounted == {alice_post.id: 0, bob_post.id: 4}
    page = (await client.get(f"/api/posts/{bob_post.id}/comments")).json()
    assert {comment["author"]["username"] for comment in page["comments"]} == {"a"}


async def test_deleting_a_post_removes_its_comments(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author, reader = await make_user(session), await make_user(session)
    (post, kept) = await make_posts(session, author, 2)
    await make_comments(session, post, reader, 3)
    await make_comments(session, kept, reader, 2)

    response = await client.delete(f"/api/posts/{post.id}", headers=await login(client, author))

    assert response.status_code == 204
    stored, recounted = await stored_and_recounted(session)
    assert stored == recounted == {kept.id: 2}


async def test_a_user_who_is_gone_still_leaves_the_counts_right(
    client: httpx.AsyncClient, session: AsyncSession, app: FastAPI
) -> None:
    """Deleting the author of both a post and comments on other posts: both cascades."""
    author: User = await make_user(session)
    other: User = await make_user(session)
    (own,) = await make_posts(session, author, 1)
    (others,) = await make_posts(session, other, 1)
    await make_comments(session, own, other, 2)
    await make_comments(session, others, author, 3)
    await make_comments(session, others, other, 1)

    gone = await client.delete(f"/api/users/{author.id}", headers=bearer(app, author))

    assert gone.status_code == 204
    stored, recounted = await stored_and_recounted(session)
    assert stored == recounted == {others.id: 1}


async def test_counts_stay_right_under_concurrent_approval_and_deletion(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, comments_mode: SetMode
) -> None:
    """Readers' comments wait (approve_all) while an editor approves them and their writers
    delete some, all at once: only approved comments count, whichever write comes first."""
    comments_mode("approve_all")
    readers = [await make_role(session, Role.READER, username=f"r{n}") for n in range(4)]
    editor = await make_role(session, Role.EDITOR)
    posts = await make_posts(session, await make_user(session), 3)
    waiting: asyncio.Queue[int] = asyncio.Queue()
    statuses: list[int] = []
    deadline = time.monotonic() + SECONDS

    async def reader(n: int) -> None:
        rng, headers = random.Random(n), bearer(app, readers[n])
        mine: list[tuple[int, int]] = []
        written = 0
        # At least three comments each, however slow the machine; more until the deadline.
        while written < 3 or time.monotonic() < deadline:
            if mine and rng.random() < 0.3:
                post_id, comment_id = mine.pop(rng.randrange(len(mine)))
                url = f"/api/posts/{post_id}/comments/{comment_id}"
                statuses.append((await client.delete(url, headers=headers)).status_code)
                continue
            post_id = rng.choice(posts).id
            url = f"/api/posts/{post_id}/comments"
            response = await client.post(url, json={"body": "hi"}, headers=headers)
            statuses.append(response.status_code)
            mine.append((post_id, response.json()["id"]))
            written += 1
            await waiting.put(response.json()["id"])

    async def approver() -> None:
        headers = bearer(app, editor)
        while not done.is_set() or not waiting.empty():
            try:
                comment_id = await asyncio.wait_for(waiting.get(), 0.2)
            except TimeoutError:
                continue
            url = f"/api/comments/{comment_id}/approve"
            statuses.append((await client.post(url, headers=headers)).status_code)

    done = asyncio.Event()

    async def readers_then_done() -> None:
        await asyncio.gather(*(reader(n) for n in range(len(readers))))
        done.set()

    await asyncio.gather(readers_then_done(), approver(), approver())

    # 404: a comment its writer deleted before the editor got to it.
    assert set(statuses) <= {200, 201, 204, 404}, sorted(set(statuses))
    assert statuses.count(200) > 0, "the editor approved some"
    stored, recounted = await stored_and_recounted(session)
    assert stored == recounted
    assert sum(stored.values()) > 0


async def test_deleting_an_account_with_waiting_comments_keeps_the_counts(
    client: httpx.AsyncClient, session: AsyncSession, app: FastAPI
) -> None:
    author, reader = await make_user(session), await make_role(session, Role.READER)
    (post,) = await make_posts(session, author, 1)
    await make_comments(session, post, reader, 2)
    await make_comments(session, post, reader, 3, status=PENDING)
    await make_comments(session, post, author, 1, status=PENDING)
    assert (await stored_and_recounted(session))[0] == {post.id: 2}

    gone = await client.delete(f"/api/users/{reader.id}", headers=bearer(app, reader))

    assert gone.status_code == 204
    stored, recounted = await stored_and_recounted(session)
    assert stored == recounted == {post.id: 0}
