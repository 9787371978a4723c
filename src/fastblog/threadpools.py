"""Size the two thread pools that run blocking code for an async app.

1. The event loop's default executor runs `asyncio.to_thread` and `loop.run_in_executor(None,
   ...)`. Python sizes it min(32, cores + 4): 6 threads on a 2-core machine, so 100 ms blocking
   calls through `to_thread` top out near 6 / 0.1 s = 60 calls/s however many requests wait.
2. AnyIO's default thread limiter (40 tokens) caps the threads that run `def` routes, sync
   dependencies and Starlette's file responses.

We give both the same default, 40: enough for blocking I/O to overlap under real concurrency,
few enough that a burst cannot spawn hundreds of threads. The trade-off: a thread waiting on I/O
costs little (a stack, mostly untouched memory), so a bigger pool raises the throughput of
blocking I/O; but threads do not make CPU work faster (the GIL runs one at a time, and they
contend for it), and every thread may hold something scarce, such as a database connection, so
a pool larger than what it leads to (a pool of connections, an upstream's rate limit) only moves
the queue there. Blocking work that is really CPU work belongs in a process pool instead.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

import anyio.to_thread

from fastblog.config import Settings


@contextlib.asynccontextmanager
async def sized_thread_pools(settings: Settings) -> AsyncIterator[None]:
    """Set both pools' sizes for the running loop; restore AnyIO's limit on exit."""
    executor = ThreadPoolExecutor(
        max_workers=settings.to_thread_workers, thread_name_prefix="fastblog-to-thread"
    )
    # The loop owns its default executor from here on and shuts it down when it closes
    # (asyncio.run and uvicorn both call loop.shutdown_default_executor()). Shutting it down
    # ourselves would break to_thread for anything else still running on this loop.
    asyncio.get_running_loop().set_default_executor(executor)
    limiter = anyio.to_thread.current_default_thread_limiter()
    previous_tokens = limiter.total_tokens
    limiter.total_tokens = settings.sync_route_threads
    try:
        yield
    finally:
        limiter.total_tokens = previous_tokens
