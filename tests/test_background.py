"""The app's background loops stop when told, even when woken in the same turn of the loop.

Python 3.11's asyncio.wait_for swallowed such a cancellation (cpython issue 86296): the post
watcher and the newsletter sender went on running and the server never finished stopping.
"""

import asyncio
from collections.abc import Callable
from typing import Protocol

import httpx
import pytest

from fastblog.background import sleep_until, stop_task
from fastblog.newsletter.sending import IssueSender
from fastblog.outbox import OutboxSender
from fastblog.posts.visibility import PostVisibility
from fastblog.resources import Resources

pytestmark = pytest.mark.anyio

STOPS_WITHIN = 10.0  # seconds; a stop takes milliseconds, a swallowed cancel forever


class Loop(Protocol):
    def start(self) -> None: ...
    def wake(self) -> None: ...
    async def stop(self) -> None: ...


async def test_a_sleeper_woken_and_cancelled_at_once_ends() -> None:
    wake = asyncio.Event()
    passes = 0

    async def loop() -> None:
        nonlocal passes
        while True:
            passes += 1
            wake.clear()
            await sleep_until(wake, 60)

    task = asyncio.create_task(loop())
    await asyncio.sleep(0.01)
    wake.set()  # woken, and cancelled before it runs again
    async with asyncio.timeout(STOPS_WITHIN):
        await stop_task(task)
    assert task.cancelled()
    assert passes == 1  # the wake-up did not start another pass


async def test_stop_task_raises_what_the_task_died_of() -> None:
    async def broken() -> None:
        raise LookupError("gone")

    task = asyncio.create_task(broken())
    await asyncio.sleep(0)
    with pytest.raises(LookupError, match="gone"):
        await stop_task(task)


async def test_sleep_until_says_whether_it_was_woken() -> None:
    event = asyncio.Event()
    assert await sleep_until(event, 0.01) is False
    event.set()
    assert await sleep_until(event, 60) is True


def _visibility(r: Resources) -> Loop:
    return PostVisibility(r.database, r.settings)


def _issues(r: Resources) -> Loop:
    return IssueSender(r.database, r.outbox, r.settings, r.site, r.process_pool)


def _outbox(r: Resources) -> Loop:
    return OutboxSender(r.database, r.mailer, r.settings)


@pytest.mark.parametrize("make", [_visibility, _issues, _outbox])
async def test_each_loop_stops_right_after_a_wake_up(
    make: Callable[[Resources], Loop], resources: Resources, client: httpx.AsyncClient
) -> None:
    for attempt in range(5):  # woken at different points of its pass
        loop = make(resources)
        loop.start()
        await asyncio.sleep(0.02 * 2**attempt)  # asleep, or still in its first pass
        loop.wake()
        async with asyncio.timeout(STOPS_WITHIN) as deadline:
            await loop.stop()
        # Not cut short by the deadline (a stop that swallowed that cancel too returned late).
        assert not deadline.expired()
