"""How the app's background loops sleep until woken, and how they are stopped.

The mail outbox, the post watcher, the newsletter and digest senders and the site settings
each run a loop in a task of their own, started and stopped by the lifespan. Python 3.11's
`asyncio.wait_for` swallows a cancellation that arrives in the same turn of the event loop
as the awaited thing finishes (https://github.com/python/cpython/issues/86296, gone with
3.12's rewrite of wait_for on `asyncio.timeout`): a loop asleep in
`wait_for(wake.wait(), poll)` that is woken and cancelled at once goes on running, and the
`await task` that stops it waits forever — a server that never exits after SIGTERM. So the
loops sleep with `asyncio.timeout`, which passes an outside cancellation on, and a task is
cancelled again for as long as it has not ended.

`fastblog.polling.PollingLoop` is that loop, once: each service gives it its pass and its sleep.
"""

import asyncio
from collections.abc import Awaitable
from typing import Any

# A task still running this long after a cancel gets another. Not sooner: the first cancel
# usually lands in a database call, and the task's cleanup (the rollback as its session
# closes) must not be cancelled in turn, which SQLAlchemy logs as a traceback.
RECANCEL_SECONDS = 10.0


async def sleep_until(event: asyncio.Event, seconds: float) -> bool:
    """Wait until `event` is set or `seconds` have passed; whether it was set."""
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        return False
    return True


# How long a loop told to stop may take to finish the pass in hand (a few statements) before
# it is cancelled. Cancelled mid-statement, its connection's cleanup is cut short too, which
# SQLAlchemy logs as "Exception during reset" with a traceback.
STOP_GRACE_SECONDS = 5.0


async def finish_within(
    task: asyncio.Task[Any] | None, seconds: float = STOP_GRACE_SECONDS
) -> None:
    """Give `task` up to `seconds` to end on its own (a loop told to stop finishing the work
    in hand), then cancel it until it has ended."""
    if task is None:
        return
    await asyncio.wait([task], timeout=seconds)
    await stop_task(task)


async def stop_task(task: asyncio.Task[Any] | None) -> None:
    """Cancel `task` and wait until it has ended. An exception it ended with is raised here."""
    if task is None:
        return
    while not task.done():
        task.cancel()
        await asyncio.wait([task], timeout=RECANCEL_SECONDS)
    if not task.cancelled():
        task.result()


async def stop_together(*stops: Awaitable[None]) -> None:
    """Await several loops' stops at once. Each may take its grace (a pass in hand, a statement
    waiting on a database that does not answer), and one after another those graces add up.
    Every stop runs to its end; then the first error, if any, is raised."""
    results = await asyncio.gather(*stops, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
