"""The write limiter's own promises, on a clock the test turns: what a refused writer is told,
and counts that last their window and no longer (the in-process store)."""

from pathlib import Path

import httpx
import pytest

from fastblog.write_limits import MemoryCounts, RateLimitedError, WriteLimiter, write_limiter
from tests.conftest import make_settings

pytestmark = pytest.mark.anyio

MINUTE_START = 60.0 * 29_000_000


async def refusal(limiter: WriteLimiter) -> RateLimitedError:
    with pytest.raises(RateLimitedError) as refused:
        async with limiter.accepting("posts", 7):
            pass
    return refused.value


async def test_one_second_left_is_said_in_the_singular() -> None:
    now = [MINUTE_START]
    limiter = WriteLimiter(MemoryCounts(), per_minute={"posts": 1}, clock=lambda: now[0])
    async with limiter.accepting("posts", 7):
        pass

    now[0] += 59.5
    error = await refusal(limiter)
    assert str(error) == "Too many posts in a minute: try again in 1 second."
    assert httpx.Headers(error.headers)["retry-after"] == "1"

    now[0] -= 1
    assert str(await refusal(limiter)) == "Too many posts in a minute: try again in 2 seconds."


async def test_a_count_is_forgotten_its_ttl_after_it_began() -> None:
    counts = MemoryCounts()
    assert await counts.add("k", 1, now=100.0, ttl=60) == 1
    assert await counts.add("k", 1, now=159.9, ttl=60) == 2  # the same window
    assert await counts.add("k", 1, now=160.0, ttl=60) == 1  # a new one, from zero
    assert await counts.add("k", 1, now=219.9, ttl=60) == 2


async def test_a_full_table_drops_only_counts_that_are_over() -> None:
    counts = MemoryCounts()
    counts.MAX_KEYS = 2
    await counts.add("old", 5, now=0.0, ttl=10)
    await counts.add("live", 5, now=5.0, ttl=10)
    await counts.add("new", 1, now=12.0, ttl=10)  # past the limit: "old" is over

    assert await counts.add("live", 1, now=12.0, ttl=10) == 6
    assert await counts.add("old", 1, now=12.0, ttl=10) == 1


async def test_limits_switched_on_accept_a_write_on_the_real_clock(tmp_path: Path) -> None:
    settings = make_settings("sqlite+aiosqlite:///unused.db", tmp_path, write_rate_limits=True)
    limiter = write_limiter(settings, MemoryCounts())
    written = False

    async with limiter.accepting("posts", 7):
        written = True

    assert written
