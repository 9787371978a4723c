"""Public pages kept in the process, and served again only while they are still right.

A page that a reader who is not logged in asks for is the same bytes for every such reader
until something it shows changes. Each process keeps the last bytes of the pages asked for
more than once (at most `max_bytes` of them, the least recently served dropped first), with
what they were rendered at:

- the version of everything public pages show (`Versions.current`: page_versions, migration
  0031), which every write to those tables moves in its own transaction, whichever worker or
  host makes it. It is read *before* the page is rendered: a write committed meanwhile makes
  the kept page newer than its version, never older, and the next request renders it again;
- the time the next scheduled post comes out: the one change with no write at all (and at
  most MAX_AGE after the render, whatever else a page might show that changes with time).

A request for a kept page reads the version (one statement of eight rows) and gets the bytes
if it has not moved and that time has not come. Correctness rests on the version: a write is
seen by the first request that starts after it commits, on every process. Each process keeps
its own pages: the database, not the process, says whether they are current, so several
workers and hosts need nothing shared between them.

What is kept is decided by fastblog.web.page_cache: a 200 HTML page, for a request without a
browser session, that made none (no flash message, no CSRF token for a form).
"""

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from fastblog.db.next_read import NextRead

# (scheme, host, path, query): every part a page's bytes may depend on for a reader with no
# session (pages carry absolute links to their own host).
PageKey = tuple[str, bytes, str, bytes]
# Pages asked for once, remembered so that a second request keeps the page: a page read
# once (a crawler's walk) is neither kept nor pays the version's statement.
ASKED_ONCE_MAX = 4096
# What an entry costs beyond its body (its key, headers, the objects): a rough figure, so
# that many small pages cannot exceed the budget by much.
ENTRY_OVERHEAD_BYTES = 512
MAX_AGE = timedelta(minutes=10)
V = TypeVar("V")
REFUSED_FOR = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class PageState:
    version: int
    next_at: datetime | None  # the next scheduled post comes out (None: none is scheduled)


class Versions(Protocol):
    """Where the version lives (fastblog.posts.page_store: the database)."""

    async def current(self) -> int: ...

    async def state(self, now: datetime) -> PageState: ...


@dataclass(frozen=True, slots=True)
class KeptPage:
    version: int
    expires_at: datetime | None
    headers: tuple[tuple[bytes, bytes], ...]  # as sent, Cache-Control and ETag included
    body: bytes
    etag: str

    def in_time(self, now: datetime) -> bool:
        return self.expires_at is None or now < self.expires_at

    @property
    def size(self) -> int:
        return len(self.body) + ENTRY_OVERHEAD_BYTES


class KeptPages:
    """This process's kept public pages (made by the lifespan; PAGE_CACHE_MB)."""

    def __init__(self, versions: Versions, *, max_bytes: int) -> None:
        self.versions = versions
        self._version = NextRead(versions.current)
        self.max_bytes = max_bytes
        self._kept: OrderedDict[PageKey, KeptPage] = OrderedDict()
        self._bytes = 0
        self._asked_once: OrderedDict[PageKey, None] = OrderedDict()
        self._refused: OrderedDict[PageKey, datetime] = OrderedDict()  # until when

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    async def current(self, key: PageKey, now: datetime) -> KeptPage | None:
        """The kept page for `key` if it is still what a render would give now."""
        kept = self._kept.get(key)
        if kept is None or not kept.in_time(now):  # no statement when its time is up
            return None
        if await self._version() != kept.version:
            return None
        self._kept.move_to_end(key)
        return kept

    async def state_to_keep(self, key: PageKey, now: datetime) -> PageState | None:
        """Before a render: the state to keep the page at, if it is asked for again (it was
        before); None for a page asked for the first time, which is only remembered."""
        refused_until = self._refused.get(key)
        if refused_until is not None:
            if now < refused_until:
                return None
            del self._refused[key]  # considered afresh: asked once, then kept
        if key not in self._kept and key not in self._asked_once:
            _remember(self._asked_once, key, None)
            return None
        state = await self.versions.state(now)
        # A page may also change with time alone in ways no one listed here (a date shown
        # relative to today, say): no page is kept longer than MAX_AGE.
        latest = now + MAX_AGE
        if state.next_at is None or state.next_at > latest:
            return PageState(state.version, latest)
        return state

    def refuse(self, key: PageKey, now: datetime) -> None:
        """The page rendered for `key` could not be kept (it made a session, set a cookie, was
        not a 200 page, or said `no-store`): requests in the next REFUSED_FOR render it
        without reading the state first. Not for longer: a 404 or a 503 passes (a scheduled
        post comes out, the database comes back). At most ASKED_ONCE_MAX keys, the oldest
        forgotten first."""
        self._asked_once.pop(key, None)
        _remember(self._refused, key, now + REFUSED_FOR)

    def keep(self, key: PageKey, page: KeptPage) -> None:
        self._asked_once.pop(key, None)
        if page.size > self.max_bytes:
            return
        kept = self._kept.pop(key, None)
        if kept is not None:
            self._bytes -= kept.size
            if kept.version > page.version:
                page = kept  # a request that started later rendered a newer page first
        self._kept[key] = page
        self._bytes += page.size
        while self._bytes > self.max_bytes:
            _, dropped = self._kept.popitem(last=False)
            self._bytes -= dropped.size

    def forget(self) -> None:
        """Drop every kept page (tests empty the database, page_versions too)."""
        self._kept.clear()
        self._asked_once.clear()
        self._refused.clear()
        self._bytes = 0


def _remember(keys: OrderedDict[PageKey, V], key: PageKey, value: V) -> None:
    """`key` as the newest of `keys`, at most ASKED_ONCE_MAX of them (the oldest dropped)."""
    keys.pop(key, None)
    keys[key] = value
    if len(keys) > ASKED_ONCE_MAX:
        keys.popitem(last=False)
