"""GET /api/tags' answer kept in the process, and served only while it is still right.

The list costs a statement that visits every tag (0.5 ms on SQLite, 1.1 ms on PostgreSQL at
a million posts), though it changes only when a write changes the tags' counters or a
scheduled post's date, or when a scheduled post's time comes. So each process keeps the JSON
bytes of its last answer for each `limit` asked, with what they were read at:

- the version of the list's inputs (tag_count_versions' sum, migration 0029), which every
  such write moves in its own transaction, whichever worker or host makes it;
- the time the next scheduled post with a tag comes out, when the list changes with no write.

A request reads the version (one statement of eight rows, shared by the requests that asked
for it before it started: fastblog.db.next_read) and gets the kept bytes if it has not moved
and that time has not come; otherwise the list is read again, with its version and next time
in the same statement, and kept. Correctness rests on the version: a write is seen
by the first request that starts after it commits, on every process. The time only ends an
entry's life early. Each process keeps its own entries (a few, at most MAX_ENTRIES `limit`
values): the database, not the process, says whether they are current, so several workers and
hosts need nothing shared between them.
"""

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastblog.db import Database, utcnow
from fastblog.db.next_read import NextRead
from fastblog.posts.queries import fetch_tag_list, fetch_tag_list_version
from fastblog.posts.responses import json_bytes

# `limit` values kept at once: clients ask for the default (100), the sitemap reads its own
# list; a crawler walking every value from 1 to 1000 only pushes out the oldest.
MAX_ENTRIES = 16


@dataclass(frozen=True, slots=True)
class _Entry:
    version: int
    expires_at: datetime | None  # the next scheduled post with a tag comes out (None: none)
    body: bytes

    def in_time(self, now: datetime) -> bool:
        return self.expires_at is None or now < self.expires_at


class TagListCache:
    """This process's kept answers of GET /api/tags, by `limit` (made by the lifespan)."""

    def __init__(self, database: Database, *, entries: int = MAX_ENTRIES) -> None:
        self.database = database
        self.entries = entries
        # One read of the version for the requests that asked together (NextRead says why
        # that is as right as a read each).
        self._version = NextRead(functools.partial(fetch_tag_list_version, database))
        self._kept: dict[int, _Entry] = {}

    async def json(self, limit: int) -> bytes:
        """The list of the `limit` most used tags as GET /api/tags writes it, as of now."""
        now = utcnow()
        kept = self._kept.get(limit)
        if (
            kept is not None
            and kept.in_time(now)  # no statement when its time is up
            and await self._version() == kept.version
        ):
            return kept.body
        counts = await fetch_tag_list(self.database, now=now, limit=limit)
        content: Any = {"tags": counts.tags}  # rows of TagCount's fields (responses says why)
        body = json_bytes(content)
        self._keep(limit, _Entry(counts.version, counts.next_at, body))
        return body

    def forget(self) -> None:
        """Drop every kept list (tests empty the database, tag_count_versions too)."""
        self._kept.clear()

    def _keep(self, limit: int, entry: _Entry) -> None:
        kept = self._kept.pop(limit, None)
        if kept is not None and kept.version > entry.version:
            # A request that started later read a newer list and finished first: keep that.
            self._kept[limit] = kept
            return
        if len(self._kept) >= self.entries:
            del self._kept[next(iter(self._kept))]  # the longest kept
        self._kept[limit] = entry
