"""The write rate limits as deployed: two hosts behind the proxy count one user's writes
together (in Redis), so a user cannot double their allowance by landing on the other host."""

import asyncio
import time

import httpx
import pytest

from bench.cluster import SERVER_NAMES, Cluster
from fastblog.write_limits import PER_MINUTE, POSTS
from tests.cluster.test_cluster import answered_by, sign_up, unique

pytestmark = [pytest.mark.anyio, pytest.mark.cluster, pytest.mark.postgres]


async def start_of_a_quiet_minute(needed_seconds: float = 20) -> None:
    """The limits count per clock minute: start where the writes cannot straddle two."""
    left = 60 - time.time() % 60
    if left < needed_seconds:
        await asyncio.sleep(left + 0.2)


async def test_a_users_posts_are_counted_across_both_hosts(limited_cluster: Cluster) -> None:
    async with httpx.AsyncClient(
        base_url=limited_cluster.url, trust_env=False, timeout=30
    ) as client:
        headers = await sign_up(client, unique("eager"))
        await start_of_a_quiet_minute()

        accepted_by = set()
        for n in range(PER_MINUTE[POSTS]):
            post = {"title": f"Post {n}", "content": "Some text."}
            accepted = await client.post("/api/posts", json=post, headers=headers)
            assert accepted.status_code == 201, accepted.text
            accepted_by.add(answered_by(accepted))
        refused_by = set()
        for _ in range(2):
            refused = await client.post(
                "/api/posts", json={"title": "One more", "content": "Text."}, headers=headers
            )
            assert refused.status_code == 429, refused.text
            assert 1 <= int(refused.headers["retry-after"]) <= 60
            refused_by.add(answered_by(refused))
        # Someone else writing on the same hosts is not held up.
        other = await sign_up(client, unique("calm"))
        written = await client.post(
            "/api/posts", json={"title": "Mine", "content": "Text."}, headers=other
        )

    assert accepted_by == refused_by == set(SERVER_NAMES)
    assert written.status_code == 201, written.text
