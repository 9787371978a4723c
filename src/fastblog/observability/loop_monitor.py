"""Measure event-loop lag continuously and name the requests in flight when the loop froze."""

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator

from fastblog.observability.metrics import Metrics
from fastblog.observability.requests import RequestTracker

logger = logging.getLogger(__name__)

MAX_NAMED_REQUESTS = 5


class LoopLagMonitor:
    """Sleeps `interval` seconds again and again; how late each sleep wakes is the lag.

    A wake-up is late only if something held the loop: a blocking call or CPU work in an
    `async def` route. A lag of `warning` seconds or more is logged with the requests that were
    in flight meanwhile, so the culprit is among the few named.
    """

    def __init__(
        self, *, interval: float, warning: float, metrics: Metrics, tracker: RequestTracker
    ) -> None:
        self.interval = interval
        self.warning = warning
        self.metrics = metrics
        self.tracker = tracker

    async def run(self) -> None:
        while True:
            # time.monotonic, not loop.time(): uvloop's clock is cached at millisecond steps.
            before = time.monotonic()
            await asyncio.sleep(self.interval)
            woke = time.monotonic()
            self.record(max(0.0, woke - before - self.interval), woke=woke)

    def record(self, lag: float, *, woke: float) -> None:
        self.metrics.observe_loop_lag(lag)
        if lag >= self.warning:
            in_flight = self.tracker.during(woke - lag, woke)
            logger.warning(
                "Event loop blocked for %.0f ms (warning from %.0f ms); requests in flight: %s",
                lag * 1000,
                self.warning * 1000,
                summarize(in_flight),
            )


def summarize(labels: list[str]) -> str:
    """'GET /a, GET /b (x3)', at most a few distinct requests, oldest first."""
    if not labels:
        return "none"
    counts = Counter(labels)
    named = [
        label if count == 1 else f"{label} (x{count})"
        for label, count in list(counts.items())[:MAX_NAMED_REQUESTS]
    ]
    if len(counts) > MAX_NAMED_REQUESTS:
        named.append(f"and {len(counts) - MAX_NAMED_REQUESTS} more")
    return ", ".join(named)


@contextlib.asynccontextmanager
async def running(monitor: LoopLagMonitor) -> AsyncIterator[None]:
    """Run the monitor as a background task for the duration of the block."""
    task = asyncio.create_task(monitor.run(), name="fastblog-loop-lag-monitor")
    # Let the task take its first reading now: a request that blocked the loop before the
    # monitor ever ran would go unseen.
    await asyncio.sleep(0)
    try:
        yield
    finally:
        task.cancel()
        # wait, not await: the task's CancelledError is expected; ours would still propagate.
        await asyncio.wait([task])
