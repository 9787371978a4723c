"""The one event posts emit: a post became visible to readers (or stopped being so).

Readers see a post when `status = 'published' AND published_at <= now`: a scheduled post
appears on time with no job. What must *happen* when a post appears (mailing it to
subscribers, fastblog.newsletter) needs one moment instead, once per post, on one host:

- A post published or scheduled through the app is stored with `announce_pending`.
- `PostVisibility` runs in every process; a pass takes the cluster-wide lease
  `post-visibility` (fastblog.db.leases), so one process at a time looks for pending posts
  whose time has come, and announces each in a transaction of its own: one UPDATE clears
  `announce_pending` (only if still set and the post still visible) and the handlers
  registered with `on_change` write what they need in the same transaction. The post is
  announced once: a crash before the commit leaves it pending, after it leaves it announced.
- A post published now wakes this process's watcher at once (`wake()`); a scheduled one is
  seen at the next poll (POST_SCHEDULE_POLL_SECONDS) after its time.
- A post taken back to draft, or deleted, calls the handlers with `visible=False` inside the
  transaction that does it (`withdrawn`), so what they started (mails not yet sent) stops.
- A visible post whose content changes calls the `on_edit` handlers inside the edit's
  transaction (`edited`): the fediverse is sent an Update; the newsletter ignores edits.

Posts import nothing above them: the packages that react (newsletter) register a handler at
start-up (fastblog.main).
"""

import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import Integer, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.config import Settings
from fastblog.db import Database, utcnow
from fastblog.db.leases import release_lease, take_lease
from fastblog.polling import PollingLoop
from fastblog.posts.models import ANNOUNCE_PENDING, PUBLISHED, Post

logger = logging.getLogger(__name__)

LEASE = "post-visibility"
BATCH = 100  # posts announced per pass at most; a full pass is followed by another at once


@dataclass(frozen=True, slots=True)
class VisibilityChange:
    post_id: int
    author_id: int
    visible: bool  # True: readers see it now; False: taken back to draft, or deleted
    send_newsletter: bool


Handler = Callable[[AsyncSession, VisibilityChange], Awaitable[None]]

# What each pass asks first, in every process, every poll: a range of the partial index of
# the posts still to announce (ANNOUNCE_PENDING), a handful whatever the size of the blog.
DUE = (
    select(Post.id)
    .where(
        ANNOUNCE_PENDING,
        Post.published_at <= bindparam("now"),
        Post.status == PUBLISHED,
    )
    .order_by(Post.published_at, Post.id)
    .limit(bindparam("batch", type_=Integer))
)
_ANNOUNCE = (
    update(Post)
    .where(
        Post.id == bindparam("post_id"),
        ANNOUNCE_PENDING,
        Post.status == PUBLISHED,
        Post.published_at <= bindparam("now"),
    )
    .values(announce_pending=False)
    .returning(Post.id, Post.user_id, Post.send_newsletter)
)


class PostVisibility:
    """Announces posts that became visible, one process of the cluster at a time."""

    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.poll_seconds = settings.post_schedule_poll_seconds
        self.lease_seconds = settings.outbox_lease_seconds
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._handlers: list[Handler] = []
        self._after_commit: list[Callable[[], None]] = []
        self._edit_handlers: list[Handler] = []
        self._after_edit: list[Callable[[], None]] = []
        self._loop = PollingLoop("Post visibility", self._pass, self.poll_seconds, log=logger)

    def on_change(
        self, handler: Handler, *, after_commit: Callable[[], None] | None = None
    ) -> None:
        """Call `handler` in the transaction of each change; `after_commit` after an
        announcement commits (to wake what sends)."""
        self._handlers.append(handler)
        if after_commit is not None:
            self._after_commit.append(after_commit)

    def on_edit(self, handler: Handler, *, after_commit: Callable[[], None] | None = None) -> None:
        """Call `handler` in the transaction of each edit of a visible post's content;
        `after_commit` once the caller has committed it (`edit_committed`)."""
        self._edit_handlers.append(handler)
        if after_commit is not None:
            self._after_edit.append(after_commit)

    async def edited(self, session: AsyncSession, *, post_id: int, author_id: int) -> None:
        """In the caller's transaction: a visible post's content changed."""
        change = VisibilityChange(post_id, author_id, visible=True, send_newsletter=False)
        for handler in self._edit_handlers:
            await handler(session, change)

    def changes_committed(self) -> None:
        """After the caller committed an edit or a withdrawal: wake what sends."""
        for wake in self._after_edit:
            wake()

    def wake(self) -> None:
        """A post was just published: look now rather than at the next poll."""
        self._loop.wake()

    async def withdrawn(self, session: AsyncSession, *, post_id: int, author_id: int) -> None:
        """In the caller's transaction: the post is no longer (or will not be) visible."""
        change = VisibilityChange(post_id, author_id, visible=False, send_newsletter=False)
        for handler in self._handlers:
            await handler(session, change)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def _pass(self) -> bool:
        return await self.announce_due() >= BATCH  # a full batch: more may be due

    async def announce_due(self) -> int:
        """One pass: announce the posts whose time has come, if this process gets the lease
        (another process holding it is doing the same). How many were announced."""
        db = self.database
        now = utcnow()
        if not await db.fetch(DUE, {"now": now, "batch": 1}):
            return 0  # the common case: a read, no write, no lease
        if not await take_lease(db, name=LEASE, holder=self.holder, seconds=self.lease_seconds):
            return 0
        try:
            due = await db.fetch(DUE, {"now": now, "batch": BATCH})
            announced = 0
            for row in due:
                announced += await self._announce(row["id"])
        finally:
            await release_lease(db, name=LEASE, holder=self.holder)
        if announced:
            for wake in self._after_commit:
                wake()
        return len(due)

    async def _announce(self, post_id: int) -> int:
        async with self.database.transaction() as session:
            result = await session.execute(_ANNOUNCE, {"post_id": post_id, "now": utcnow()})
            row = result.one_or_none()
            if row is None:  # announced by another pass, unpublished or deleted meanwhile
                return 0
            change = VisibilityChange(row.id, row.user_id, True, row.send_newsletter)
            for handler in self._handlers:
                await handler(session, change)
            await session.commit()
        logger.info("Post %d is visible: announced", post_id)
        return 1
