"""Throttling of logins and of password-reset mails, in memory or in Redis.

Logins: failures are counted per account *from one address* (a stranger's guesses do not
lock the owner out at home), per address (one address guessing at many accounts), and per
account from everywhere (a much higher ceiling, the last resort against a botnet). Each count
has some free failures; past them every failure makes the next attempt wait, twice as long
as the last wait, up to a cap. A count is forgotten after a quiet period. A successful login
or a completed password reset clears the account's counts.

Reset mails: at most a few per hour to one inbox and from one address (fixed windows).

The counts live in a `CounterStore`: `MemoryStore` for one process, `RedisStore` for several
workers. Time comes from an injected clock (wall-clock seconds, shared by every worker of a
Redis store), so tests control it. Redis keys always carry an expiry: the store holds nothing
once the clock logic would have forgotten it anyway.
"""

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple, Protocol

from fastblog.config import Settings

if TYPE_CHECKING:  # made in fastblog.main, and imported there, only with REDIS_URL
    from redis.asyncio import Redis

Clock = Callable[[], float]


class Count(NamedTuple):
    events: int
    first_at: float
    last_at: float


class CounterStore(Protocol):
    """Counts of events under (key, field); `clear` forgets a key with all its fields."""

    async def read(self, key: str, fields: Sequence[str]) -> list[Count | None]: ...

    async def add(
        self, key: str, fields: Sequence[str], *, now: float, idle: float, window: float
    ) -> list[Count]:
        """One more event in each field; a count restarts at 1 when its last event is more
        than `idle` seconds old or its first more than `window` seconds old (0: never)."""
        ...

    async def clear(self, key: str) -> None: ...


def _restarts(count: Count | None, now: float, idle: float, window: float) -> bool:
    return (
        count is None
        or (idle > 0 and now - count.last_at > idle)
        or (window > 0 and now - count.first_at >= window)
    )


class MemoryStore:
    """One process's counts. Stale entries are dropped when the table grows large."""

    MAX_KEYS = 100_000  # bounds memory under an address-spraying attack

    def __init__(self) -> None:
        self._keys: dict[str, tuple[float, dict[str, Count]]] = {}  # key → (expires, fields)

    async def read(self, key: str, fields: Sequence[str]) -> list[Count | None]:
        entry = self._keys.get(key)
        return [entry[1].get(name) if entry else None for name in fields]

    async def add(
        self, key: str, fields: Sequence[str], *, now: float, idle: float, window: float
    ) -> list[Count]:
        counts = self._keys[key][1] if key in self._keys else {}
        added = []
        for name in fields:
            count = counts.get(name)
            if _restarts(count, now, idle, window):
                count = Count(1, now, now)
            else:
                assert count is not None
                count = Count(count.events + 1, count.first_at, now)
            counts[name] = count
            added.append(count)
        self._keys[key] = (now + max(idle, window), counts)
        if len(self._keys) > self.MAX_KEYS:
            self._keys = {k: v for k, v in self._keys.items() if v[0] > now}
        return added

    async def clear(self, key: str) -> None:
        self._keys.pop(key, None)


# One atomic step per field: read, restart or increment, write; then the key's expiry.
# KEYS[1]: the hash; ARGV: now, idle, window, ttl (whole seconds), fields...
ADD_SCRIPT = """
local now, idle, window, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local result = {}
for i = 5, #ARGV do
  local events, first, last = 0, now, now
  local raw = redis.call('HGET', KEYS[1], ARGV[i])
  if raw then
    local e, f, l = string.match(raw, '^(%d+):([^:]+):([^:]+)$')
    events, first, last = tonumber(e), tonumber(f), tonumber(l)
    if (idle > 0 and now - last > idle) or (window > 0 and now - first >= window) then
      events, first = 0, now
    end
  end
  events = events + 1
  local value = events .. ':' .. string.format('%.6f', first) .. ':' .. string.format('%.6f', now)
  redis.call('HSET', KEYS[1], ARGV[i], value)
  table.insert(result, value)
end
redis.call('EXPIRE', KEYS[1], ttl)
return result
"""


def _parse(raw: bytes | str | None) -> Count | None:
    if raw is None:
        return None
    text = raw.decode() if isinstance(raw, bytes) else raw
    events, first, last = text.split(":")
    return Count(int(events), float(first), float(last))


class RedisStore:
    """Counts shared by every worker: one Redis hash per key, with an expiry."""

    def __init__(self, redis: "Redis", prefix: str = "fastblog:throttle:") -> None:
        self.redis = redis
        self.prefix = prefix
        self._add = redis.register_script(ADD_SCRIPT)

    async def read(self, key: str, fields: Sequence[str]) -> list[Count | None]:
        values = await self.redis.hmget(self.prefix + key, list(fields))
        return [_parse(value) for value in values]

    async def add(
        self, key: str, fields: Sequence[str], *, now: float, idle: float, window: float
    ) -> list[Count]:
        # The key outlives its newest count by as long as the clock logic keeps it.
        ttl = max(1, math.ceil(max(idle, window)))
        values = await self._add(keys=[self.prefix + key], args=[now, idle, window, ttl, *fields])
        return [count for value in values if (count := _parse(value)) is not None]

    async def clear(self, key: str) -> None:
        await self.redis.delete(self.prefix + key)


@dataclass(frozen=True)
class Backoff:
    """`free` failures wait for nothing; the next waits `first_delay` seconds, each one after
    twice as long, up to `max_delay`."""

    free: int
    first_delay: float
    max_delay: float

    def delay(self, failures: int) -> float:
        if failures < self.free:
            return 0.0
        exponent = min(failures - self.free, 62)  # 2**62 s is past any cap
        return float(min(self.first_delay * 2**exponent, self.max_delay))


ALL = "*"


@dataclass
class LoginThrottle:
    store: CounterStore
    per_account_and_address: Backoff
    per_address: Backoff
    per_account: Backoff
    forget_after: float  # seconds without a failure before a count starts again
    clock: Clock = field(default=time.time)

    @staticmethod
    def _account_key(account: str) -> str:
        """The account's hash: its total, and one field per address."""
        return f"login:account:{account}"

    def _keys(self, account: str, address: str) -> tuple[str, str, str]:
        """The account's hash, its field for the address, the address's own key."""
        return self._account_key(account), f"@{address}", f"login:address:{address}"

    async def retry_after(self, account: str, address: str) -> int | None:
        """Seconds until `account` may try again from `address`, or None if it may now."""
        account_key, pair, address_key = self._keys(account, address)
        now = self.clock()
        for_pair, for_account = await self.store.read(account_key, [pair, ALL])
        (for_address,) = await self.store.read(address_key, [ALL])
        waits = [
            count.last_at + backoff.delay(count.events) - now
            for count, backoff in (
                (for_pair, self.per_account_and_address),
                (for_address, self.per_address),
                (for_account, self.per_account),
            )
            if count is not None and now - count.last_at <= self.forget_after
        ]
        longest = max(waits, default=0.0)
        return math.ceil(longest) if longest > 0 else None

    async def failed(self, account: str, address: str) -> None:
        account_key, pair, address_key = self._keys(account, address)
        now, idle = self.clock(), self.forget_after
        await self.store.add(account_key, [pair, ALL], now=now, idle=idle, window=0)
        await self.store.add(address_key, [ALL], now=now, idle=idle, window=0)

    async def clear_account(self, account: str) -> None:
        """After a successful login or a password reset: every count of the account, from
        every address (the address's own count across accounts stays)."""
        await self.store.clear(self._account_key(account))


@dataclass
class MailThrottle:
    """Fixed windows: at most `per_inbox` reset mails to one address, and `per_address`
    requests from one client address, in each `window` seconds."""

    store: CounterStore
    per_inbox: int
    per_address: int
    window: float
    clock: Clock = field(default=time.time)

    async def allow(self, inbox: str, address: str) -> bool:
        """Counts the request; False once either limit is reached in the current window. A
        request the address's limit refuses does not use up the inbox's."""
        now = self.clock()
        (from_address,) = await self.store.add(
            f"mail:address:{address}", [ALL], now=now, idle=0, window=self.window
        )
        if from_address.events > self.per_address:
            return False
        (to_inbox,) = await self.store.add(
            f"mail:inbox:{inbox}", [ALL], now=now, idle=0, window=self.window
        )
        return to_inbox.events <= self.per_inbox


def wait_in_words(seconds: int) -> str:
    """ "4 minutes", rounded up, for a person: "30 seconds", "1 minute", "2 hours"."""
    if seconds < 60:
        amount, unit = max(seconds, 1), "second"
    elif seconds < 3600:
        amount, unit = math.ceil(seconds / 60), "minute"
    else:
        amount, unit = math.ceil(seconds / 3600), "hour"
    return f"{amount} {unit}{'' if amount == 1 else 's'}"


def login_throttle(
    settings: Settings, store: CounterStore, clock: Clock = time.time
) -> LoginThrottle:
    def backoff(free: int) -> Backoff:
        return Backoff(free, settings.login_delay_seconds, settings.login_max_delay_seconds)

    return LoginThrottle(
        store,
        per_account_and_address=backoff(settings.login_failures_per_account_and_address),
        per_address=backoff(settings.login_failures_per_address),
        per_account=backoff(settings.login_failures_per_account),
        forget_after=max(settings.login_forget_seconds, settings.login_max_delay_seconds),
        clock=clock,
    )


def mail_throttle(
    settings: Settings, store: CounterStore, clock: Clock = time.time
) -> MailThrottle:
    return MailThrottle(
        store,
        per_inbox=settings.reset_mails_per_inbox_per_hour,
        per_address=settings.reset_requests_per_address_per_hour,
        window=3600,
        clock=clock,
    )
