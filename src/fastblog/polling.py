"""The skeleton of every background loop of the app, written once.

The mail outbox, the post watcher, the newsletter and digest senders, the federation inbox
and delivery, and the site settings each run a pass, then sleep until woken or their poll
interval has passed, over and over, in a task the lifespan starts and stops. `PollingLoop`
owns that: the task, the wake-up, the stop (fastblog.background: the pass in hand may finish,
the sleep is cut short, a cancel is never swallowed) and what a failed pass logs. A service
gives it only its pass and how long to sleep.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from fastblog.background import STOP_GRACE_SECONDS, finish_within, sleep_until
from fastblog.db.engine import is_database_unavailable

# One pass of a loop: whether more work is waiting (the next pass starts without sleeping).
Pass = Callable[[], Awaitable[bool]]
# How long to sleep after a pass that left nothing waiting: a fixed poll, or a function for a
# loop that knows when its next piece of work is due.
Pause = float | Callable[[], Awaitable[float]]


class PollingLoop:
    """A pass, then a sleep until woken or `pause` has passed, over and over, in a task of its
    own. A pass that raises is logged once per run of failures (a database that is away fails
    every pass until it is back): a database outage in one line, anything else with its
    traceback. The loop sleeps as after any pass and tries again; the first pass that works
    says so.

    `wake()` before or during a pass makes the next one start at once (the event is cleared
    before each pass, so nothing set meanwhile is lost). `stop()` lets the pass in hand finish
    within a grace period and ends the loop at its next sleep."""

    def __init__(self, name: str, run_pass: Pass, pause: Pause, *, log: logging.Logger) -> None:
        self.name = name
        self._pass = run_pass
        self._pause = pause
        self._log = log
        self._wake = asyncio.Event()
        self._stopping = False  # told to stop: the pass in hand is the last
        self._failing = False
        self._task: asyncio.Task[None] | None = None

    def start(self, *, first_pass_in: float = 0.0) -> None:
        """Start the loop; its first pass after `first_pass_in` seconds (or a wake-up)."""
        self._stopping = False
        self._task = asyncio.create_task(self._run(first_pass_in), name=self.name)

    def wake(self) -> None:
        """Work is waiting: the next pass starts now rather than after the sleep."""
        self._wake.set()

    async def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Let the pass in hand finish within `grace` seconds (0: cancel it now), then end."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        self._wake.set()
        await finish_within(task, grace)

    async def _run(self, first_pass_in: float) -> None:
        if first_pass_in > 0:
            await sleep_until(self._wake, first_pass_in)
        while not self._stopping:
            self._wake.clear()  # before the pass: work queued during it wakes the next one
            if await self._guarded_pass():
                continue
            pause = await self._pause() if callable(self._pause) else self._pause
            await sleep_until(self._wake, pause)

    async def _guarded_pass(self) -> bool:
        try:
            more = await self._pass()
        except Exception as exc:  # the loop must outlive a database outage, or a bug in a pass
            if not self._failing:  # said once, not every pass until it works again
                self._said_failed(exc)
            self._failing = True
            return False
        if self._failing:
            self._log.info("%s: working again", self.name)
        self._failing = False
        return more

    def _said_failed(self, exc: Exception) -> None:
        if is_database_unavailable(exc):
            # A database that is away is a state, not a bug: one line, no traceback.
            self._log.warning("%s: cannot reach the database (%r); will retry", self.name, exc)
        else:
            self._log.warning("%s: a pass failed; will retry", self.name, exc_info=exc)
