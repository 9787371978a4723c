"""A read shared by the requests that asked for it before it started: what a process that
keeps an answer (fastblog.web.kept_pages, fastblog.posts.tag_list_cache) uses to ask the
database whether the answer is still current, once for many requests."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class NextRead(Generic[T]):
    """A read shared by the requests that asked for it before it started.

    Many requests for a kept answer arrive together (64 connections: dozens a turn of the event
    loop), and each needs the version as it is *after* it arrived; one read that starts after
    all of them arrived serves them all. So a request joins the next read, the one not started
    yet, never one already under way (which may have read before the request's own write
    committed); while a read is under way the next one waits for it to end, and then starts
    for everyone who asked meanwhile. A request waits for at most two reads; under load the
    database sees one statement per read, not one per request. An error reaches every request
    that shared the read."""

    def __init__(self, read: Callable[[], Awaitable[T]]) -> None:
        self._read = read
        self._next: asyncio.Future[T] | None = None  # asked for, not started
        self._under_way = False
        self._task: asyncio.Task[None] | None = None

    async def __call__(self) -> T:
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
            if not self._under_way:
                self._under_way = True
                # Started by a task, so the requests of this turn of the loop join it too
                # (kept referenced: the loop holds tasks weakly).
                self._task = asyncio.get_running_loop().create_task(self._run())
        # Shielded: a request that goes away does not cancel the read of those who stay.
        return await asyncio.shield(self._next)

    async def _run(self) -> None:
        shared: asyncio.Future[T] | None = None
        try:
            while self._next is not None:
                shared, self._next = self._next, None  # from now on, askers wait for the next
                try:
                    shared.set_result(await self._read())
                except Exception as exc:
                    shared.set_exception(exc)
        finally:  # cancelled (the app stopping): no one is left waiting for a read forever
            for waiting in (shared, self._next):
                if waiting is not None and not waiting.done():
                    waiting.cancel()
            self._next = None
            self._under_way = False
