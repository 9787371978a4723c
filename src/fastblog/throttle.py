"""Login throttling: too many failures for one account or one address → 429.

Fixed windows counted per key. In-process by default; with REDIS_URL the counts
live in Redis so every worker process enforces the same limit.
"""

import math
import time
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis


class FailureCounter(Protocol):
    async def count(self, key: str) -> tuple[int, float]:
        """Failures recorded under key in its current window, and seconds left in it."""
        ...

    async def add(self, key: str) -> None: ...

    async def clear(self, key: str) -> None: ...


class MemoryCounter:
    def __init__(self, window_seconds: int) -> None:
        self.window = window_seconds
        self._windows: dict[str, tuple[float, int]] = {}

    def _live(self, key: str) -> tuple[float, int] | None:
        entry = self._windows.get(key)
        if entry is not None and entry[0] <= time.monotonic():
            del self._windows[key]
            return None
        return entry

    async def count(self, key: str) -> tuple[int, float]:
        entry = self._live(key)
        if entry is None:
            return 0, 0.0
        return entry[1], entry[0] - time.monotonic()

    async def add(self, key: str) -> None:
        entry = self._live(key)
        ends = entry[0] if entry else time.monotonic() + self.window
        self._windows[key] = (ends, (entry[1] if entry else 0) + 1)
        if len(self._windows) > 100_000:  # bound memory under an address-spraying attack
            self._windows = {k: v for k, v in self._windows.items() if v[0] > time.monotonic()}

    async def clear(self, key: str) -> None:
        self._windows.pop(key, None)


class RedisCounter:
    def __init__(self, redis: Redis, window_seconds: int, prefix: str = "fastblog:login:") -> None:
        self.redis = redis
        self.window = window_seconds
        self.prefix = prefix

    async def count(self, key: str) -> tuple[int, float]:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(self.prefix + key)
            pipe.pttl(self.prefix + key)
            value, ttl_ms = await pipe.execute()
        return int(value or 0), max(ttl_ms, 0) / 1000

    async def add(self, key: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(self.prefix + key)
            # NX: the window starts at the first failure and is not extended by later ones.
            pipe.expire(self.prefix + key, self.window, nx=True)
            await pipe.execute()

    async def clear(self, key: str) -> None:
        await self.redis.delete(self.prefix + key)


@dataclass
class LoginThrottle:
    counter: FailureCounter
    per_account: int
    per_address: int

    @staticmethod
    def _keys(identifier: str, address: str) -> tuple[str, str]:
        return f"account:{identifier.strip().lower()}", f"address:{address}"

    async def retry_after(self, identifier: str, address: str) -> int | None:
        """Seconds until another attempt is allowed, or None if it is allowed now."""
        account_key, address_key = self._keys(identifier, address)
        waits = []
        for key, limit in ((account_key, self.per_account), (address_key, self.per_address)):
            failures, seconds_left = await self.counter.count(key)
            if failures >= limit:
                waits.append(max(1, math.ceil(seconds_left)))
        return max(waits) if waits else None

    async def failed(self, identifier: str, address: str) -> None:
        for key in self._keys(identifier, address):
            await self.counter.add(key)

    async def succeeded(self, identifier: str, address: str) -> None:
        account_key, _ = self._keys(identifier, address)
        await self.counter.clear(account_key)
