"""Counts never drift: 64 concurrent clients like, unlike, follow, unfollow, comment and delete
their comments through a real server, ROUNDS writes each, all at once; then every stored count
equals a recount of the rows, no request failed, and the log has no "database is locked".

On SQLite the server has two workers: two processes share one file, as in production. On
PostgreSQL one: the races are between transactions in the database, which one worker's ten
pooled connections run as two workers' twenty would, and a second worker costs an interpreter
and the app's imports (3.7 CPU-s).

The issue asked for 10 s of load; a drift shows within the first few hundred racing writes,
so the suite sends 64 x 8 = 512, the same number on a quiet or a loaded machine
(SOCIAL_LOAD_ROUNDS to change it; a duration sent thousands on a quiet machine).
"""

import asyncio
import contextlib
import os
import random
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from fastblog.accounts.tokens import create_access_token
from fastblog.models import Post, User
from tests.factories import TEST_SECRET_KEY
from tests.reliability.server import server_env, serving
from tests.reliability.test_concurrent_writers import own_client, workers_for
from tests.social.helpers import drifted_counts

pytestmark = pytest.mark.anyio

CLIENTS = 64
ACCOUNTS = 16  # four clients share each account: the same like races itself
ROUNDS = int(os.environ.get("SOCIAL_LOAD_ROUNDS", "8"))


async def arrange(database_url: str) -> list[int]:
    """ACCOUNTS users with one published post each (written directly: the test is about the
    likes and follows); the posts' ids."""
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                insert(User),
                [
                    {
                        "username": f"liker{n}",
                        "email": f"liker{n}@example.com",
                        "password_hash": "x",
                    }
                    for n in range(ACCOUNTS)
                ],
            )
            user_ids = (await connection.scalars(select(User.id).order_by(User.id))).all()
            await connection.execute(
                insert(Post),
                [
                    {"title": "A post", "content": "Words.", "user_id": user_id}
                    for user_id in user_ids
                ],
            )
            return list((await connection.scalars(select(Post.id).order_by(Post.id))).all())
    finally:
        await engine.dispose()


async def client_loop(
    client: httpx.AsyncClient,
    user_id: int,
    post_ids: list[int],
    tally: Counter[str],
) -> None:
    token = create_access_token(user_id, secret=TEST_SECRET_KEY, lifetime=timedelta(hours=1))
    headers = {"Authorization": f"Bearer {token}"}
    others = [n for n in range(1, ACCOUNTS + 1) if n != user_id]
    rng = random.Random(user_id)
    written: list[str] = []  # this client's comments, as their URLs
    for _ in range(ROUNDS):
        method, url, body, expected = next_write(rng, post_ids, others, written)
        try:
            response = await client.request(method, url, headers=headers, json=body)
            ok = response.status_code == expected
            tally["ok" if ok else str(response.status_code)] += 1
            if not ok:
                tally[f"{response.status_code} {url} {response.text[:200]}"] += 1
            elif body is not None:
                written.append(f"{url}/{response.json()['id']}")
        except httpx.HTTPError as exc:
            tally[repr(exc)] += 1


def next_write(
    rng: random.Random, post_ids: list[int], others: list[int], written: list[str]
) -> tuple[str, str, dict[str, str] | None, int]:
    """(method, url, JSON body, expected status): a like, a follow or a comment, either way."""
    method = rng.choice(("POST", "DELETE"))
    kind = rng.random()
    if kind < 0.4:
        return method, f"/api/posts/{rng.choice(post_ids)}/like", None, 200
    if kind < 0.8:
        return method, f"/api/users/{rng.choice(others)}/follow", None, 200
    if method == "DELETE" and written:
        return method, written.pop(rng.randrange(len(written))), None, 204
    url = f"/api/posts/{rng.choice(post_ids)}/comments"
    return "POST", url, {"body": f"A *comment* {rng.random()}"}, 201


async def test_counts_equal_a_recount_after_racing_likes_follows_and_comments(
    fresh_database_url: str, tmp_path: Path
) -> None:
    post_ids = await arrange(fresh_database_url)
    env = server_env(
        fresh_database_url,
        tmp_path / "media",
        db_pool_size=5,
        db_max_overflow=5,
        db_timeout_seconds=30,
        keep_alive_seconds=60,
        write_rate_limits=False,  # this test is about the counts, not the budget
    )
    tally: Counter[str] = Counter()
    async with (
        serving(env, tmp_path / "server.log", workers=workers_for(fresh_database_url)) as server,
        contextlib.AsyncExitStack() as stack,
    ):
        clients = [await stack.enter_async_context(own_client(server.url)) for _ in range(CLIENTS)]
        started = time.monotonic()
        await asyncio.gather(
            *(
                client_loop(client, n % ACCOUNTS + 1, post_ids, tally)
                for n, client in enumerate(clients)
            )
        )
        seconds = time.monotonic() - started
    log = server.log()
    engine = create_async_engine(fresh_database_url)
    try:
        async with engine.connect() as connection:
            drifted = await drifted_counts(connection)
            likes = await connection.scalar(text("SELECT count(*) FROM post_likes"))
            follows = await connection.scalar(text("SELECT count(*) FROM follows"))
            comments = await connection.scalar(text("SELECT count(*) FROM comments"))
    finally:
        await engine.dispose()

    print(
        f"\n{fresh_database_url.split(':')[0]}: {CLIENTS} clients x {ROUNDS} in {seconds:.1f} s,"
        f" {tally['ok']} writes answered as expected; {likes} likes, {follows} follows and"
        f" {comments} comments stored"
    )
    assert set(tally) == {"ok"}, tally.most_common(5)
    assert tally["ok"] > CLIENTS
    assert comments
    assert drifted == {}
    assert "database is locked" not in log
    assert "Traceback" not in log, log
