"""The app's background loops stop when told, even when woken in the same turn of the loop.

Python 3.11's asyncio.wait_for swallowed such a cancellation (cpython issue 86296): the post
watcher and the newsletter sender went on running and the server never finished stopping.
"""

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol

import httpx
import pytest

from fastblog.background import sleep_until, stop_task, stop_together
from fastblog.newsletter.sending import IssueSender
from fastblog.outbox import OutboxSender
from fastblog.polling import PollingLoop
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


class Passes:
    """A pass for a PollingLoop that counts its calls and does what the test says."""

    def __init__(self, *, more: int = 0, seconds: float = 0.0) -> None:
        self.count = 0
        self.more = more  # the first `more` passes say that more work is waiting
        self.seconds = seconds  # how long each pass works
        self.failure: Exception | None = None
        self.finished = 0
        self.called = asyncio.Event()
        self.changed = asyncio.Event()  # set at each start and end of a pass

    async def __call__(self) -> bool:
        self.count += 1
        self.called.set()
        self.changed.set()
        if self.failure is not None:
            raise self.failure
        await asyncio.sleep(self.seconds)
        self.finished += 1
        self.changed.set()
        return self.count <= self.more

    async def until(self, condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(STOPS_WITHIN):
            while not condition():
                self.changed.clear()
                await self.changed.wait()


LOG = logging.getLogger("tests.polling")


async def test_a_loop_passes_again_at_once_while_work_is_waiting_then_sleeps() -> None:
    passes = Passes(more=3)
    loop = PollingLoop("test", passes, 60.0, log=LOG)
    loop.start()
    await passes.until(lambda: passes.count == 4)
    await asyncio.sleep(0.05)
    assert passes.count == 4  # the fourth found nothing more: asleep for the minute
    loop.wake()
    await passes.until(lambda: passes.count == 5)
    await loop.stop()


async def test_a_wake_up_during_a_pass_is_not_lost() -> None:
    passes = Passes(seconds=0.05)
    loop = PollingLoop("test", passes, 60.0, log=LOG)
    loop.start()
    await passes.called.wait()
    loop.wake()  # work queued while the pass is busy
    await passes.until(lambda: passes.count == 2)
    await loop.stop()


async def test_the_sleep_can_be_asked_for_after_each_pass() -> None:
    passes, pauses = Passes(), []

    async def pause() -> float:
        pauses.append(passes.count)
        passes.changed.set()
        return 0.01 if len(pauses) < 3 else 60.0

    loop = PollingLoop("test", passes, pause, log=LOG)
    loop.start()
    await passes.until(lambda: len(pauses) == 3)
    await asyncio.sleep(0.05)
    assert passes.count == 3
    assert pauses == [1, 2, 3]
    await loop.stop()


async def test_the_first_pass_can_wait() -> None:
    passes = Passes()
    loop = PollingLoop("test", passes, 60.0, log=LOG)
    loop.start(first_pass_in=60.0)
    await asyncio.sleep(0.05)
    assert passes.count == 0
    loop.wake()
    await passes.until(lambda: passes.count == 1)
    await loop.stop()


async def fail_three_times_then_work(failure: Exception) -> None:
    passes = Passes()
    passes.failure = failure
    loop = PollingLoop("test", passes, 0.01, log=LOG)
    loop.start()
    await passes.until(lambda: passes.count >= 3)  # tried again after each poll
    passes.failure = None
    await passes.until(lambda: passes.finished >= 1)
    await loop.stop()


async def test_a_failing_pass_is_logged_once_with_its_traceback_and_the_loop_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=LOG.name)
    await fail_three_times_then_work(LookupError("a bug"))

    [failed] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert failed.exc_info is not None
    assert failed.exc_info[0] is LookupError
    assert "test: a pass failed" in failed.getMessage()
    assert any(r.getMessage() == "test: working again" for r in caplog.records)


async def test_a_database_outage_is_one_line_without_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=LOG.name)
    await fail_three_times_then_work(ConnectionRefusedError("refused"))

    [failed] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert failed.exc_info is None
    assert "cannot reach the database" in failed.getMessage()


async def test_stop_lets_the_pass_in_hand_finish() -> None:
    passes = Passes(seconds=0.2)
    loop = PollingLoop("test", passes, 60.0, log=LOG)
    loop.start()
    await passes.called.wait()
    await loop.stop()
    assert passes.finished == 1
    assert passes.count == 1


async def test_stop_cancels_a_pass_that_outlasts_the_grace() -> None:
    passes = Passes(seconds=60.0)
    loop = PollingLoop("test", passes, 60.0, log=LOG)
    loop.start()
    await passes.called.wait()
    async with asyncio.timeout(STOPS_WITHIN):
        await loop.stop(grace=0.05)
    assert passes.finished == 0


async def test_loops_stopped_together_take_one_grace_not_the_sum() -> None:
    """The lifespan stops its loops together: with the database hanging, each loop's pass
    outlasts its grace, and one after another the three below would take three graces."""
    grace = 1.0
    loops = []
    for _ in range(3):
        passes = Passes(seconds=60.0)
        loop = PollingLoop("test", passes, 60.0, log=LOG)
        loop.start()
        await passes.called.wait()
        loops.append(loop)
    clock = asyncio.get_running_loop().time
    started = clock()
    await stop_together(*(loop.stop(grace=grace) for loop in loops))
    assert clock() - started < 2 * grace


async def test_stop_together_lets_every_stop_end_then_raises_the_first_error() -> None:
    ended: list[str] = []

    async def fails() -> None:
        raise RuntimeError("this stop failed")

    async def slow() -> None:
        await asyncio.sleep(0.05)
        ended.append("slow")

    with pytest.raises(RuntimeError, match="this stop failed"):
        await stop_together(fails(), slow())
    assert ended == ["slow"]


async def test_a_loop_woken_and_stopped_in_the_same_turn_ends() -> None:
    """cpython#86296: the wake-up and the cancel land together; the stop still returns."""
    for attempt in range(20):
        passes = Passes()
        loop = PollingLoop("test", passes, 60.0, log=LOG)
        loop.start()
        await asyncio.sleep(0.001 * attempt)  # in its first pass, or asleep
        loop.wake()
        async with asyncio.timeout(STOPS_WITHIN) as deadline:
            await loop.stop(grace=0)
        assert not deadline.expired()
