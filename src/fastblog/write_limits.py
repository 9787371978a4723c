"""Rate limits on writing, per user: so many posts, comments, likes or follows a minute.

Only accepted writes count: a route wraps its write in `limiter.accepting(kind, user_id)`,
which refuses up front (RateLimitedError: a 429 with Retry-After) when the user's budget for
the current minute is spent, and counts the write only when the block finishes without an
error, so a 404, a 422 or a refused write never uses up the budget. Check and count are two
steps: a user with several writes in flight at once may go over by at most that many.

The counts live in a CounterStore (fastblog.throttle): in Redis, shared by every worker and
host, when REDIS_URL is set; in the process otherwise. Fixed windows of a minute: a count
starts with the first write and is forgotten a minute later. Time comes from an injected
clock (wall-clock seconds, shared by every worker through Redis), so tests control it.
"""

import math
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from types import MappingProxyType

from fastblog.config import Settings
from fastblog.exceptions import DomainError
from fastblog.throttle import ALL, Clock, CounterStore

POSTS = "posts"
COMMENTS = "comments"
LIKES = "likes"
FOLLOWS = "follows"
WINDOW_SECONDS = 60.0
# Writes a minute, per user and kind (likes and follows each have their own 60).
PER_MINUTE: Mapping[str, int] = MappingProxyType({POSTS: 10, COMMENTS: 10, LIKES: 60, FOLLOWS: 60})
NOUNS = {POSTS: "posts", COMMENTS: "comments", LIKES: "likes", FOLLOWS: "follows"}


class RateLimitedError(DomainError):
    status_code = 429

    def __init__(self, kind: str, retry_after: int) -> None:
        super().__init__(
            f"Too many {NOUNS.get(kind, kind)} in a minute: try again in {retry_after} "
            f"second{'' if retry_after == 1 else 's'}."
        )
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}


@dataclass
class WriteLimiter:
    """`store` None: no limits (WRITE_RATE_LIMITS=false)."""

    store: CounterStore | None
    per_minute: Mapping[str, int] = field(default_factory=lambda: PER_MINUTE)
    clock: Clock = field(default=time.time)

    @staticmethod
    def _key(kind: str, user_id: int) -> str:
        return f"{kind}:{user_id}"

    async def retry_after(self, kind: str, user_id: int) -> int | None:
        """Seconds (1..60) until the user may write this kind again, or None if they may now."""
        if self.store is None:
            return None
        (count,) = await self.store.read(self._key(kind, user_id), [ALL])
        now = self.clock()
        if count is None or now - count.first_at >= WINDOW_SECONDS:
            return None
        if count.events < self.per_minute[kind]:
            return None
        wait = math.ceil(count.first_at + WINDOW_SECONDS - now)
        return min(max(wait, 1), int(WINDOW_SECONDS))

    async def check(self, kind: str, user_id: int) -> None:
        """Refuse (RateLimitedError) when the user's budget for this minute is spent."""
        wait = await self.retry_after(kind, user_id)
        if wait is not None:
            raise RateLimitedError(kind, wait)

    async def record(self, kind: str, user_id: int) -> None:
        """Count one accepted write."""
        if self.store is not None:
            await self.store.add(
                self._key(kind, user_id), [ALL], now=self.clock(), idle=0, window=WINDOW_SECONDS
            )

    @asynccontextmanager
    async def accepting(self, kind: str, user_id: int) -> AsyncIterator[None]:
        """Around a write: refused up front when over the limit; counted when the block ends
        without an error."""
        await self.check(kind, user_id)
        yield
        await self.record(kind, user_id)


def write_limiter(
    settings: Settings, store: CounterStore, clock: Clock = time.time
) -> WriteLimiter:
    return WriteLimiter(store if settings.write_rate_limits else None, clock=clock)
