"""users.unread_notifications is kept by triggers: after any mix of concurrent comments,
deletions, likes, unlikes, follows and "mark read", every user's count equals a recount, and
no write failed. (The deadlock the triggers once had, a comment written while another is
deleted, shows best in tests/comments/test_counts.py, which does only that.)"""

import asyncio
import random
import time

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from fastblog.notifications.models import Notification
from tests.accounts import bearer
from tests.factories import make_posts, make_user

pytestmark = pytest.mark.anyio

SECONDS = 2.0  # short and bounded: the machine is shared
WRITERS = 6


async def test_unread_counts_equal_a_recount_after_concurrent_writes(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    users = [await make_user(session, username=f"writer{n}") for n in range(WRITERS)]
    posts = [post for user in users[:3] for post in await make_posts(session, user, 2)]
    statuses: list[int] = []

    async def writer(n: int) -> None:
        rng, headers = random.Random(n), bearer(app, users[n])
        mine: list[tuple[int, int]] = []  # (post id, comment id)
        deadline = time.monotonic() + SECONDS
        while time.monotonic() < deadline:
            post = rng.choice(posts)
            other = rng.choice(users)
            choice = rng.random()
            if choice < 0.3:
                response = await client.post(
                    f"/api/posts/{post.id}/comments", json={"body": "hi"}, headers=headers
                )
                if response.status_code == 201:
                    mine.append((post.id, response.json()["id"]))
            elif choice < 0.45 and mine:
                post_id, comment_id = mine.pop(rng.randrange(len(mine)))
                url = f"/api/posts/{post_id}/comments/{comment_id}"
                response = await client.delete(url, headers=headers)
            elif choice < 0.7:
                method = rng.choice(["POST", "DELETE"])
                response = await client.request(
                    method, f"/api/posts/{post.id}/like", headers=headers
                )
            elif choice < 0.9 and other.id != users[n].id:
                method = rng.choice(["POST", "DELETE"])
                url = f"/api/users/{other.id}/follow"
                response = await client.request(method, url, headers=headers)
            else:
                response = await client.post("/api/notifications/read", headers=headers)
            statuses.append(response.status_code)

    await asyncio.gather(*(writer(n) for n in range(WRITERS)))

    assert set(statuses) <= {200, 201, 204}, sorted(set(statuses))
    unread = (
        select(func.count())
        .where(Notification.recipient_id == User.id, Notification.read_at.is_(None))
        .scalar_subquery()
    )
    rows = (await session.execute(select(User.id, User.unread_notifications, unread))).all()
    assert [(row[0], row[1]) for row in rows] == [(row[0], row[2]) for row in rows]
    total = await session.scalar(select(func.count()).select_from(Notification))
    assert total, "the loop notified someone"
