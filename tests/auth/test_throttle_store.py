"""The throttle's counter stores, in memory and in a real Redis, on a clock the test turns:
counts restart when their quiet period or window ends, keys carry an expiry, waits end."""

import uuid
from collections.abc import AsyncIterator

import anyio
import pytest
import redis.asyncio as aioredis

from fastblog.throttle import (
    Backoff,
    Count,
    CounterStore,
    LoginThrottle,
    MailThrottle,
    MemoryStore,
    RedisStore,
    wait_in_words,
)

pytestmark = pytest.mark.anyio

T0 = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


Store = tuple[CounterStore, aioredis.Redis | None, str]


async def delete_keys(connection: aioredis.Redis, prefix: str) -> None:
    keys = [key async for key in connection.scan_iter(match=f"{prefix}*")]
    if keys:
        await connection.delete(*keys)


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    """Each store, empty; the Redis one under a prefix of this test only, deleted after."""
    if request.param == "memory":
        yield MemoryStore(), None, ""
        return
    url: str = request.getfixturevalue("redis_url")  # skipped without Redis, failed in CI
    connection = aioredis.Redis.from_url(url)
    prefix = f"fastblog-test:{uuid.uuid4().hex}:"
    try:
        yield RedisStore(connection, prefix=prefix), connection, prefix
    finally:
        await delete_keys(connection, prefix)
        await connection.aclose()


async def test_a_count_restarts_after_its_quiet_period(
    store: Store,
) -> None:
    counters, _, _ = store
    for n in range(1, 4):
        (count,) = await counters.add("k", ["f"], now=T0 + n * 10, idle=100, window=0)
        assert count == Count(n, T0 + 10, T0 + n * 10)

    (count,) = await counters.add("k", ["f"], now=T0 + 30 + 100, idle=100, window=0)
    assert count.events == 4  # exactly 100 s of quiet is not more than 100
    (count,) = await counters.add("k", ["f"], now=T0 + 130 + 100.5, idle=100, window=0)
    assert count == Count(1, T0 + 230.5, T0 + 230.5)
    assert await counters.read("k", ["f", "other"]) == [count, None]


async def test_a_fixed_window_restarts_when_it_ends(
    store: Store,
) -> None:
    counters, _, _ = store
    for n in range(3):
        (count,) = await counters.add("w", ["*"], now=T0 + n * 1000, idle=0, window=3600)
        assert count.events == n + 1
    (count,) = await counters.add("w", ["*"], now=T0 + 3600, idle=0, window=3600)
    assert count == Count(1, T0 + 3600, T0 + 3600)


async def test_a_one_second_quiet_period_or_window_ends_too(
    store: Store,
) -> None:
    counters, _, _ = store
    await counters.add("q", ["f"], now=T0, idle=1, window=0)
    (count,) = await counters.add("q", ["f"], now=T0 + 1.5, idle=1, window=0)
    assert count.events == 1
    await counters.add("w", ["f"], now=T0, idle=0, window=1)
    (count,) = await counters.add("w", ["f"], now=T0 + 1, idle=0, window=1)
    assert count.events == 1


async def test_clear_forgets_every_field_of_a_key(
    store: Store,
) -> None:
    counters, _, _ = store
    await counters.add("a", ["x", "y"], now=T0, idle=60, window=0)
    await counters.add("b", ["x"], now=T0, idle=60, window=0)

    await counters.clear("a")

    assert await counters.read("a", ["x", "y"]) == [None, None]
    assert (await counters.read("b", ["x"]))[0] is not None


async def test_redis_keys_expire_when_the_clock_logic_forgets(redis_url: str) -> None:
    connection = aioredis.Redis.from_url(redis_url)
    prefix = f"fastblog-test:{uuid.uuid4().hex}:"
    counters = RedisStore(connection, prefix=prefix)
    try:
        await counters.add("login", ["f"], now=T0, idle=86400, window=0)
        await counters.add("mail", ["*"], now=T0, idle=0, window=3600)
        await counters.add("short", ["*"], now=T0, idle=1, window=0)

        assert 86000 < await connection.ttl(f"{prefix}login") <= 86400
        assert 3500 < await connection.ttl(f"{prefix}mail") <= 3600
        # The expiry is real: a key whose count is forgotten after 1 s is gone soon after.
        for _ in range(40):
            if not await connection.exists(f"{prefix}short"):
                break
            await anyio.sleep(0.1)
        assert not await connection.exists(f"{prefix}short")
    finally:
        await delete_keys(connection, prefix)
        await connection.aclose()


def throttle(counters: CounterStore, clock: Clock) -> LoginThrottle:
    return LoginThrottle(
        counters,
        per_account_and_address=Backoff(3, 60, 240),
        per_address=Backoff(10, 60, 240),
        per_account=Backoff(20, 60, 240),
        forget_after=3600,
        clock=clock,
    )


async def test_a_lockout_ends_and_retry_after_is_the_time_left(
    store: Store,
) -> None:
    counters, _, _ = store
    clock = Clock()
    login = throttle(counters, clock)
    for _ in range(3):
        assert await login.retry_after("user:1", "10.0.0.1") is None
        await login.failed("user:1", "10.0.0.1")

    assert await login.retry_after("user:1", "10.0.0.1") == 60
    assert await login.retry_after("user:1", "10.0.0.2") is None  # another address
    clock.now += 45
    assert await login.retry_after("user:1", "10.0.0.1") == 15
    clock.now += 15
    assert await login.retry_after("user:1", "10.0.0.1") is None

    await login.failed("user:1", "10.0.0.1")
    assert await login.retry_after("user:1", "10.0.0.1") == 120
    clock.now += 3600 + 1  # a quiet hour: forgotten
    assert await login.retry_after("user:1", "10.0.0.1") is None
    await login.failed("user:1", "10.0.0.1")
    assert await login.retry_after("user:1", "10.0.0.1") is None  # a first failure again


async def test_an_address_guessing_slowly_at_many_accounts_is_throttled(
    store: Store,
) -> None:
    """One failure a minute, each at another account: the address's count adds them up."""
    counters, _, _ = store
    clock = Clock()
    login = throttle(counters, clock)  # 10 free failures per address
    for n in range(10):
        clock.now += 60
        await login.failed(f"user:{n}", "10.0.0.1")

    assert await login.retry_after("user:99", "10.0.0.1") == 60
    assert await login.retry_after("user:99", "10.0.0.2") is None


async def test_clearing_the_account_lifts_its_lockout_from_every_address(
    store: Store,
) -> None:
    counters, _, _ = store
    login = throttle(counters, Clock())
    for address in ("10.0.0.1", "10.0.0.2"):
        for _ in range(3):
            await login.failed("user:7", address)
        assert await login.retry_after("user:7", address) == 60

    await login.clear_account("user:7")

    for address in ("10.0.0.1", "10.0.0.2"):
        assert await login.retry_after("user:7", address) is None


async def test_a_full_memory_store_keeps_every_lockout_it_prunes_around() -> None:
    """Spraying addresses fills the table and sets off the prune: it may drop only counts
    the clock logic has forgotten, never the lockout of the account under attack."""
    counters = MemoryStore()
    counters.MAX_KEYS = 4
    clock = Clock()
    login = throttle(counters, clock)
    for _ in range(3):
        await login.failed("user:1", "10.0.0.1")
    clock.now += 30
    for n in range(2, 6):  # two keys each (the account's, the address's): past MAX_KEYS
        await login.failed(f"user:{n}", f"10.0.1.{n}")

    assert await login.retry_after("user:1", "10.0.0.1") == 30


async def test_the_mail_limit_ends_with_its_window(
    store: Store,
) -> None:
    counters, _, _ = store
    clock = Clock()
    mail = MailThrottle(counters, per_inbox=2, per_address=10, window=3600, clock=clock)

    assert [await mail.allow("kim@example.com", "10.0.0.1") for _ in range(3)] == [
        True,
        True,
        False,
    ]
    clock.now += 3599
    assert not await mail.allow("kim@example.com", "10.0.0.1")
    clock.now += 1
    assert await mail.allow("kim@example.com", "10.0.0.1")


async def test_an_address_asking_slowly_is_still_limited_for_the_whole_hour(
    store: Store,
) -> None:
    counters, _, _ = store
    clock = Clock()
    mail = MailThrottle(counters, per_inbox=10, per_address=2, window=3600, clock=clock)

    answers = []
    for n in range(3):  # one request a minute, to three inboxes
        answers.append(await mail.allow(f"user{n}@example.com", "10.0.0.1"))
        clock.now += 60
    assert answers == [True, True, False]
    clock.now = T0 + 3600
    assert await mail.allow("user9@example.com", "10.0.0.1")


def test_backoff_doubles_up_to_its_cap() -> None:
    backoff = Backoff(free=5, first_delay=60, max_delay=3600)

    delays = [backoff.delay(n) for n in range(1, 14)]

    assert delays == [0, 0, 0, 0, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]
    assert backoff.delay(10**6) == 3600


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (1, "1 second"),
        (30, "30 seconds"),
        (59, "59 seconds"),
        (60, "1 minute"),
        (61, "2 minutes"),
        (240, "4 minutes"),
        (3599, "60 minutes"),
        (3600, "1 hour"),
        (7200, "2 hours"),
        (7201, "3 hours"),
    ],
)
def test_the_wait_in_words(seconds: int, words: str) -> None:
    assert wait_in_words(seconds) == words
