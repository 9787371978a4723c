"""Password hashing runs off the event loop: while logins hash, the loop keeps answering.

A probe task sleeps 10 ms again and again and records how late it wakes up. If a hash ran on
the loop, the probe would be late by a whole hash (~100 ms, more on a busy machine); in a
worker thread it is late by a few ms. The bound is half the cost of one hash measured on this
machine, so the test stays meaningful on a fast machine. The CPUs are shared, so another
process can delay the loop now and then: each check gets three tries and must pass once. With
hashing on the loop every try is late by a whole hash, so the test still fails every time.
"""

import time
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

import anyio
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog import passwords
from tests.conftest import ExplicitSettings, make_settings
from tests.factories import PASSWORD, TEST_SECRET_KEY, default_cost_password_hash, make_user

pytestmark = pytest.mark.anyio

PROBE_INTERVAL = 0.01
T = TypeVar("T")
TRIES = 3


def cost_of_one_verify() -> float:
    hasher = passwords.PasswordHash.recommended()
    start = time.perf_counter()
    hasher.verify(PASSWORD, default_cost_password_hash())
    return time.perf_counter() - start


class LoopWatch:
    """The worst lateness of the event loop, and how long /health took, while work runs."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.worst_lag = 0.0
        self.health_seconds: list[float] = []

    async def _probe(self, done: anyio.Event) -> None:
        while not done.is_set():
            start = time.perf_counter()
            await anyio.sleep(PROBE_INTERVAL)
            self.worst_lag = max(self.worst_lag, time.perf_counter() - start - PROBE_INTERVAL)

    async def _poll_health(self, done: anyio.Event) -> None:
        while not done.is_set():
            start = time.perf_counter()
            response = await self.client.get("/health")
            assert response.status_code == 200
            self.health_seconds.append(time.perf_counter() - start)
            await anyio.sleep(0.02)

    async def during(self, *work: Awaitable[T]) -> list[T]:
        done = anyio.Event()
        results: list[T] = []

        async def run(job: Awaitable[T]) -> None:
            results.append(await job)

        async with anyio.create_task_group() as group:
            group.start_soon(self._probe, done)
            group.start_soon(self._poll_health, done)
            async with anyio.create_task_group() as jobs:
                for job in work:
                    jobs.start_soon(run, job)
            done.set()
        return results


async def test_concurrent_logins_do_not_stall_the_event_loop(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # At the default cost, where a verify on the loop would show (factory users are cheaper).
    users = [await make_user(session, password_hash=default_cost_password_hash()) for _ in range(3)]
    bound = cost_of_one_verify() / 2
    tries: list[LoopWatch] = []

    for _ in range(TRIES):
        watch = LoopWatch(client)
        responses = await watch.during(
            *(
                client.post("/api/users/token", data={"username": u.email, "password": PASSWORD})
                for u in users
            ),
            client.post("/api/users/token", data={"username": users[0].email, "password": "no!"}),
        )
        assert sorted(r.status_code for r in responses) == [200, 200, 200, 401]
        assert len(watch.health_seconds) >= 3, "/health did not answer while the logins ran"
        tries.append(watch)
        if watch.worst_lag < bound and max(watch.health_seconds) < bound:
            break

    best = min(tries, key=lambda watch: watch.worst_lag)
    assert best.worst_lag < bound, ([watch.worst_lag for watch in tries], bound)
    assert max(best.health_seconds) < bound, (best.health_seconds, bound)


async def test_the_first_login_of_an_unknown_account_does_not_stall_the_loop(
    client: httpx.AsyncClient,
) -> None:
    """An unknown account is checked against a dummy hash, made on first use: off the loop too.

    At the default cost, where a hash made on the loop would show (the tests' apps hash at a
    fifth of it), by the hasher a login of an unknown account calls."""
    bound = cost_of_one_verify() / 2
    lags: list[float] = []

    for _ in range(TRIES):
        # As in a freshly started process: no dummy hash made yet.
        hasher = passwords.PasswordHasher(ExplicitSettings(secret_key=TEST_SECRET_KEY))
        watch = LoopWatch(client)
        (matched,) = await watch.during(hasher.verify(PASSWORD, None))
        assert matched is False
        lags.append(watch.worst_lag)
        if watch.worst_lag < bound:
            break

    assert min(lags) < bound, (lags, bound)


async def test_the_default_cost_is_rfc_9106s_and_a_hash_keeps_the_cost_it_was_made_with(
    tmp_path: Path,
) -> None:
    default = passwords.PasswordHasher(ExplicitSettings(secret_key=TEST_SECRET_KEY))
    cheap = passwords.PasswordHasher(
        make_settings("sqlite+aiosqlite:///unused.db", tmp_path / "media")
    )

    made_by_default = await default.hash(PASSWORD)
    made_cheaply = await cheap.hash(PASSWORD)

    assert made_by_default.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert made_cheaply.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    # A site that changes the cost keeps its accounts: each hash carries its own parameters.
    assert await cheap.verify(PASSWORD, made_by_default)
    assert await default.verify(PASSWORD, made_cheaply)
    assert not await default.verify("not the password", made_cheaply)
    assert not await cheap.verify(PASSWORD, None)
