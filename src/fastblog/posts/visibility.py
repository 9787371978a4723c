"""The one event posts emit: a post became visible to readers (or stopped being so).

Readers see a post when `status = 'published' AND published_at <= now`: a scheduled post
appears on time with no job. What must *happen* when a post appears (mailing it to
subscribers, fastblog.newsletter) needs one moment instead, once per post, on one host:

- A post published or scheduled through the app is stored with `announce_pending`.
- `PostVisibility` runs in every process; a pass takes the cluster-wide lease
  `post-visibility` (fastblog.db.leases), so one process at a time looks for pending posts
  whose time has come, and announces them together in one transaction: one UPDATE clears
  `announce_pending` (only where still set and the post still visible) and the handlers
  registered with `on_change` are given the batch and write what they need in the same
  transaction. Each post is announced once: a crash before the commit leaves the batch
  pending, after it leaves it announced. (One transaction a batch, not a post: under a
  stream of new posts the pass finds several at a time, and a transaction per post, with
  its handlers' reads, took more of the server than the posts' own writes; on SQLite it
  also held the write lock that the next posts' INSERTs wait for.)
- A handler says whether it queued work (an issue to mail, deliveries to send): only then is
  the sender it was registered with (`after_commit`) woken, once the transaction committed
  (for announcements, at the end of the pass, the lease released). A post nobody is owed
  anything for wakes no sender. A crash between the commit and the wake delays the work to
  the sender's next poll, never loses it.
- A post published now wakes this process's watcher at once (`wake()`); a scheduled one is
  seen at the next poll (POST_SCHEDULE_POLL_SECONDS) after its time.
- A post taken back to draft, or deleted, calls the handlers with `visible=False` inside the
  transaction that does it (`withdrawn`), so what they started (mails not yet sent) stops.
- A visible post whose content changes calls the `on_edit` handlers inside the edit's
  transaction (`edited`): the fediverse is sent an Update; the newsletter ignores edits.
- For both, the senders to wake are kept on the caller's session (`session.info`) until the
  caller has committed and calls `changes_committed(session)`.

Posts import nothing above them: the packages that react (newsletter) register a handler at
start-up (fastblog.main).
"""

import logging
import os
import socket
from collections.abc import Awaitable, Callable, Sequence
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


# Writes what the changes need in the caller's transaction (an announcement gives a batch,
# an edit or a withdrawal one change); True: it queued work for its sender, which is woken
# once that transaction commits.
Handler = Callable[[AsyncSession, Sequence[VisibilityChange]], Awaitable[bool]]
Wake = Callable[[], None]
# session.info's key for the senders to wake once the caller's transaction commits.
_WAKES = "fastblog.posts.visibility.wakes"

# A post still to announce whose time has come (and still published).
_DUE_NOW = (ANNOUNCE_PENDING, Post.published_at <= bindparam("now"), Post.status == PUBLISHED)
# What each pass asks first, in every process, every poll: a range of the partial index of
# the posts still to announce (ANNOUNCE_PENDING), a handful whatever the size of the blog.
DUE = (
    select(Post.id)
    .where(*_DUE_NOW)
    .order_by(Post.published_at, Post.id)
    .limit(bindparam("batch", type_=Integer))
)
# The batch's posts still to announce, locked; one another transaction holds (an edit, a
# deletion: on PostgreSQL) is skipped and left pending for the next pass, so the announcement
# never waits holding the others' locks (a deletion of an author's posts, locking them in its
# own order, could otherwise close a deadlock with it). SQLite writes one at a time.
_CLAIMED = (
    select(Post.id)
    .where(Post.id.in_(bindparam("post_ids", expanding=True)), *_DUE_NOW)
    .with_for_update(skip_locked=True)
)
_ANNOUNCE = (
    update(Post)
    .where(Post.id.in_(_CLAIMED.scalar_subquery()))
    .values(announce_pending=False)
    .returning(Post.id, Post.user_id, Post.send_newsletter)
    .execution_options(synchronize_session=False)
)


class PostVisibility:
    """Announces posts that became visible, one process of the cluster at a time."""

    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.poll_seconds = settings.post_schedule_poll_seconds
        self.lease_seconds = settings.outbox_lease_seconds
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._handlers: list[tuple[Handler, Wake | None]] = []
        self._edit_handlers: list[tuple[Handler, Wake | None]] = []
        self._loop = PollingLoop("Post visibility", self._pass, self.poll_seconds, log=logger)

    def on_change(self, handler: Handler, *, after_commit: Wake | None = None) -> None:
        """Call `handler` in the transaction of each announcement or withdrawal;
        `after_commit` once that transaction commits, if the handler queued work."""
        self._handlers.append((handler, after_commit))

    def on_edit(self, handler: Handler, *, after_commit: Wake | None = None) -> None:
        """Call `handler` in the transaction of each edit of a visible post's content;
        `after_commit` once the caller has committed it (`changes_committed`), if the handler
        queued work."""
        self._edit_handlers.append((handler, after_commit))

    async def edited(self, session: AsyncSession, *, post_id: int, author_id: int) -> None:
        """In the caller's transaction: a visible post's content changed."""
        change = VisibilityChange(post_id, author_id, visible=True, send_newsletter=False)
        await _call(self._edit_handlers, session, [change])

    def changes_committed(self, session: AsyncSession) -> None:
        """After the caller committed an edit or a withdrawal in `session`: wake the senders
        whose handlers queued work in it."""
        _wake_after(session)

    def wake(self) -> None:
        """A post was just published: look now rather than at the next poll."""
        self._loop.wake()

    async def withdrawn(self, session: AsyncSession, *, post_id: int, author_id: int) -> None:
        """In the caller's transaction: the post is no longer (or will not be) visible."""
        change = VisibilityChange(post_id, author_id, visible=False, send_newsletter=False)
        await _call(self._handlers, session, [change])

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def _pass(self) -> bool:
        return await self.announce_due() >= BATCH  # a full batch: more may be due

    async def announce_due(self) -> int:
        """One pass: announce the posts whose time has come, if this process gets the lease
        (another process holding it is doing the same). How many were due in this pass
        (a post announced meanwhile by another pass, or unpublished, counts but is skipped)."""
        db = self.database
        now = utcnow()
        if not await db.fetch(DUE, {"now": now, "batch": 1}):
            return 0  # the common case: a read, no write, no lease
        if not await take_lease(db, name=LEASE, holder=self.holder, seconds=self.lease_seconds):
            return 0
        try:
            due = await db.fetch(DUE, {"now": now, "batch": BATCH})
            wakes = await self._announce([row["id"] for row in due])
        finally:
            await release_lease(db, name=LEASE, holder=self.holder)
        for wake in wakes:  # once the lease is free: a sender's writes do not wait for it
            wake()
        return len(due)

    async def _announce(self, post_ids: list[int]) -> dict[Wake, None]:
        """Announce the posts in one transaction; the senders to wake for them."""
        if not post_ids:  # announced by another process between the look and the lease
            return {}
        async with self.database.transaction() as session:
            result = await session.execute(_ANNOUNCE, {"post_ids": post_ids, "now": utcnow()})
            # Skipped: a post announced by another pass, unpublished or deleted meanwhile, or
            # locked by another transaction right now (left for the next pass).
            rows = {row.id: row for row in result}
            # In the order they became visible (DUE's), not the UPDATE's.
            changes = [
                VisibilityChange(row.id, row.user_id, True, row.send_newsletter)
                for row in (rows[post_id] for post_id in post_ids if post_id in rows)
            ]
            if not changes:
                return {}
            await _call(self._handlers, session, changes)
            await session.commit()
        for change in changes:
            logger.info("Post %d is visible: announced", change.post_id)
        wakes: dict[Wake, None] = session.info.pop(_WAKES, {})
        return wakes


async def _call(
    handlers: list[tuple[Handler, Wake | None]],
    session: AsyncSession,
    changes: Sequence[VisibilityChange],
) -> None:
    """Run the handlers in the session's transaction; keep, on the session, the senders of
    those that queued work, for `_wake_after` once it commits."""
    wakes: dict[Wake, None] = session.info.setdefault(_WAKES, {})  # a set, in order
    for handler, wake in handlers:
        if await handler(session, changes) and wake is not None:
            wakes[wake] = None


def _wake_after(session: AsyncSession) -> None:
    """The session's transaction committed: wake the senders its handlers queued work for."""
    for wake in session.info.pop(_WAKES, {}):
        wake()
