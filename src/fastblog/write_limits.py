"""Rate limits on writing, per user: so many posts, comments, likes or follows a minute.

Only accepted writes count. A route wraps its write in `limiter.accepting(kind, user_id)`:
it takes one unit of the user's budget for the current minute up front (an atomic increment,
so a burst of simultaneous requests cannot all slip through), is refused with
RateLimitedError (a 429 with Retry-After) when that went past the limit, and gives the unit
back when the write fails (a 404, a 422, a lost race): a refused or invalid write costs
nothing.

Windows are the clock's minutes (a count is keyed by the minute it falls in), so Retry-After
is the time to the next minute, 1 to 60 seconds. The counts live in Redis, shared by every
worker and host, when REDIS_URL is set (the same idea as fastblog.throttle's stores: one
class per place, the same clock injected, keys that expire); in the process otherwise.
"""

import math
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol

from fastblog.config import Settings
from fastblog.exceptions import DomainError
from fastblog.throttle import Clock

if TYPE_CHECKING:  # made in fastblog.main, and imported there, only with REDIS_URL
    from redis.asyncio import Redis

POSTS = "posts"
COMMENTS = "comments"
LIKES = "likes"
FOLLOWS = "follows"
WINDOW_SECONDS = 60
# Writes a minute, per user and kind (likes and follows each have their own 60).
PER_MINUTE: Mapping[str, int] = MappingProxyType({POSTS: 10, COMMENTS: 10, LIKES: 60, FOLLOWS: 60})


class RateLimitedError(DomainError):
    status_code = 429

    def __init__(self, kind: str, retry_after: int) -> None:
        super().__init__(
            f"Too many {kind} in a minute: try again in {retry_after} "
            f"second{'' if retry_after == 1 else 's'}."
        )
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}


class WriteCounts(Protocol):
    async def add(self, key: str, amount: int, *, now: float, ttl: int) -> int:
        """Add `amount` to the count under `key` (0 if absent, forgotten `ttl` seconds after
        it was created) and return the new count, atomically."""
        ...


class MemoryCounts:
    """One process's counts; expired ones are dropped when the table grows large."""

    MAX_KEYS = 100_000

    def __init__(self) -> None:
        self._counts: dict[str, tuple[float, int]] = {}  # key → (expires at, count)

    async def add(self, key: str, amount: int, *, now: float, ttl: int) -> int:
        expires, count = self._counts.get(key, (now + ttl, 0))
        if expires <= now:
            expires, count = now + ttl, 0
        self._counts[key] = (expires, count + amount)
        if len(self._counts) > self.MAX_KEYS:
            self._counts = {k: v for k, v in self._counts.items() if v[0] > now}
        return count + amount


# INCRBY, and an expiry on a new key: one atomic step. KEYS[1]; ARGV: amount, ttl.
ADD_SCRIPT = """
local count = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return count
"""


class RedisCounts:
    """Counts shared by every worker and host."""

    def __init__(self, redis: "Redis", prefix: str = "fastblog:writes:") -> None:
        self.prefix = prefix
        self._add = redis.register_script(ADD_SCRIPT)

    async def add(self, key: str, amount: int, *, now: float, ttl: int) -> int:
        return int(await self._add(keys=[self.prefix + key], args=[amount, ttl]))


@dataclass
class WriteLimiter:
    """`counts` None: no limits (WRITE_RATE_LIMITS=false)."""

    counts: WriteCounts | None
    per_minute: Mapping[str, int] = field(default_factory=lambda: PER_MINUTE)
    clock: Clock = field(default=time.time)

    @asynccontextmanager
    async def accepting(self, kind: str, user_id: int) -> AsyncIterator[None]:
        """Around a write: refused up front (RateLimitedError) when the user's budget for this
        kind and minute is spent; counted only when the block ends without an error."""
        if self.counts is None:
            yield
            return
        now = self.clock()
        minute = math.floor(now / WINDOW_SECONDS)
        key, ttl = f"{kind}:{user_id}:{minute}", 2 * WINDOW_SECONDS
        if await self.counts.add(key, 1, now=now, ttl=ttl) > self.per_minute[kind]:
            await self.counts.add(key, -1, now=now, ttl=ttl)
            wait = math.ceil((minute + 1) * WINDOW_SECONDS - now)
            raise RateLimitedError(kind, min(max(wait, 1), WINDOW_SECONDS))
        try:
            yield
        except BaseException:
            await self.counts.add(key, -1, now=now, ttl=ttl)  # not accepted: not counted
            raise


def write_limiter(
    settings: Settings, counts: WriteCounts, clock: Clock = time.time
) -> WriteLimiter:
    return WriteLimiter(counts if settings.write_rate_limits else None, clock=clock)
