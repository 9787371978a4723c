"""Mailing a post to its subscribers: an issue per post, fanned out in batches into the outbox.

- `on_visibility` is registered with fastblog.posts.visibility: when a post marked
  `send_newsletter` is announced, it writes the post's issue in the announcing transaction
  (so a post is announced and its issue exists together, or neither), and only then is this
  process's sender woken once it commits; when a post is taken back to draft or deleted, it
  stops the issue and takes back the mails not yet being sent.
- `IssueSender` runs in every process. A pass takes one open issue and queues the next
  BATCH subscribers in one transaction that locks the issue's row: the confirmed
  subscriptions of the site or of the post's author after `cursor`, one mail per address
  (the newsletter_deliveries key: INSERT … ON CONFLICT DO NOTHING RETURNING says which
  addresses are new), each mail due at its turn under NEWSLETTER_MAILS_PER_MINUTE. Two
  processes on one issue take turns on the row lock; the cursor and the key mean a batch
  that committed is never queued again, and one that did not is queued whole by the next.
- The outbox sends them (every process, leases, retries: fastblog.outbox). The publish
  request waits for none of it.
"""

import asyncio
import hashlib
import json
import logging
from collections.abc import Sequence
from concurrent.futures import Executor
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from fastblog.config import Settings
from fastblog.db import Database, utcnow
from fastblog.newsletter import service
from fastblog.newsletter.mail import UNSUBSCRIBE_MARK, IssueMail, render_issue
from fastblog.newsletter.models import NewsletterDelivery, NewsletterIssue, Subscription
from fastblog.outbox import OutboxMail, OutboxSender
from fastblog.polling import PollingLoop
from fastblog.posts.models import PUBLISHED, Post
from fastblog.posts.visibility import PostVisibility, VisibilityChange
from fastblog.site.store import SiteSettingsStore

logger = logging.getLogger(__name__)

BATCH = 100  # subscribers queued per transaction (short: on SQLite it holds the write lock)
FORGET_EVERY_SECONDS = 3600  # how often a process forgets stale unconfirmed subscriptions
MAIL_LIFETIME = timedelta(days=2)
# Measured: a 3 KB post's mail renders in ~0.2 ms (nh3 and css-inline are Rust), less than
# the ~0.8 ms a round trip to the process pool costs the loop; a long post goes there.
INLINE_RENDER_MAX_CHARS = 4_000  # a newsletter not sent within this is not worth sending


def topic(post_id: int) -> str:
    return f"{service.TOPIC_PREFIX}{post_id}"


async def on_visibility(session: AsyncSession, changes: Sequence[VisibilityChange]) -> bool:
    """In the transaction that announces posts or withdraws one (fastblog.posts.visibility);
    whether it opened an issue someone is to be mailed (the sender is woken for nothing
    else)."""
    for change in changes:
        if not change.visible:
            await _stop(session, change.post_id)
    return await _open_issues(
        session, [change for change in changes if change.visible and change.send_newsletter]
    )


async def _open_issues(session: AsyncSession, changes: list[VisibilityChange]) -> bool:
    """An issue for each post announced with its newsletter, once per post; whether any has
    someone to mail. The reads are a batch's, not a post's: a few whatever its size."""
    if not changes:
        return False
    had = set(
        await session.scalars(
            select(NewsletterIssue.post_id).where(
                NewsletterIssue.post_id.in_([change.post_id for change in changes])
            )
        )
    )
    new = [change for change in changes if change.post_id not in had]
    if not new:
        return False
    mailed = await _authors_with_readers(session, {change.author_id for change in new})
    # No one to mail: the issue is done as it is made (it still says the post had its
    # newsletter, as one sent to nobody would). The sender would have closed it in two
    # passes of its own, three transactions after every post a blog without subscribers
    # publishes.
    now = utcnow()
    session.add_all(
        NewsletterIssue(
            post_id=change.post_id,
            author_id=change.author_id,
            done_at=None if change.author_id in mailed else now,
        )
        for change in new
    )
    return any(change.author_id in mailed for change in new)


async def _authors_with_readers(session: AsyncSession, author_ids: set[int]) -> set[int]:
    """Those of the authors whose issues would mail someone: all of them if the site has a
    confirmed subscriber, else those with a confirmed subscriber of their own."""
    site_wide = select(Subscription.id).where(_CONFIRMED, _SITE_WIDE)
    if await session.scalar(site_wide.limit(1)) is not None:
        return author_ids
    own = select(Subscription.author_id).where(_CONFIRMED, Subscription.author_id.in_(author_ids))
    return set(await session.scalars(own.distinct()))


async def _stop(session: AsyncSession, post_id: int) -> None:
    """The post was taken back to draft or deleted: its issue stops, and the mails not yet
    being sent are taken back."""
    now = utcnow()
    await session.execute(
        update(NewsletterIssue)
        .where(NewsletterIssue.post_id == post_id, NewsletterIssue.done_at.is_(None))
        .values(done_at=now, stopped_at=now)
    )
    await session.execute(
        delete(OutboxMail)
        .where(
            OutboxMail.topic == topic(post_id),
            OutboxMail.failed_at.is_(None),
            or_(OutboxMail.claimed_until.is_(None), OutboxMail.claimed_until <= now),
        )
        .execution_options(synchronize_session=False)
    )


_CONFIRMED = Subscription.confirmed_at.is_not(None)
_SITE_WIDE = Subscription.author_id.is_(None)


def _mailed_for(author_id: Any) -> Any:
    """The subscriptions an issue of this author's post goes to: the confirmed ones to the
    site and to the author (what _authors_with_readers asks of a batch's authors)."""
    return and_(_CONFIRMED, or_(_SITE_WIDE, Subscription.author_id == author_id))


def _insert_keys(dialect: str) -> Any:
    upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        upsert(NewsletterDelivery)
        .on_conflict_do_nothing(index_elements=["post_id", "email"])
        .returning(NewsletterDelivery.email)
    )


class IssueSender:
    """Fans open issues out into the outbox; one per process, started by the lifespan."""

    def __init__(
        self,
        database: Database,
        outbox: OutboxSender,
        settings: Settings,
        site: SiteSettingsStore,
        pool: Executor,
        *,
        batch: int = BATCH,
    ) -> None:
        self.database = database
        self.outbox = outbox
        self.settings = settings
        self.site = site
        self.pool = pool
        self.batch = batch
        self._mails: dict[int, IssueMail] = {}  # rendered once per post in this process
        self._forgotten_at = 0.0
        self._loop = PollingLoop("Newsletter", self._pass, settings.outbox_poll_seconds, log=logger)

    def wake(self) -> None:
        self._loop.wake()

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def _pass(self) -> bool:
        queued = await self.send_open()
        loop = asyncio.get_running_loop()
        if loop.time() - self._forgotten_at > FORGET_EVERY_SECONDS:
            self._forgotten_at = loop.time()
            await service.forget_unconfirmed(self.database)
        return queued > 0  # a batch queued: the issue (or the next) may have more

    async def send_open(self) -> int:
        """One batch of the oldest open issue; how many mails it queued (0: nothing open)."""
        async with self.database.session() as session:
            post_id = await session.scalar(
                select(NewsletterIssue.post_id)
                .where(NewsletterIssue.done_at.is_(None))
                .order_by(NewsletterIssue.created_at)
                .limit(1)
            )
        if post_id is None:
            return 0
        queued = await self.queue_batch(post_id)
        if queued:
            self.outbox.wake(later=True)  # spread under NEWSLETTER_MAILS_PER_MINUTE
        return max(queued, 1)  # a batch that closed the issue: look for the next at once

    async def _mail(self, session: AsyncSession, post_id: int) -> IssueMail | None:
        mail = self._mails.get(post_id)
        if mail is not None:
            return mail
        row = (
            await session.execute(
                select(Post.title, Post.content_html, Post.body_text, Post.status, User.username)
                .join(User, User.id == Post.user_id)
                .where(Post.id == post_id)
            )
        ).one_or_none()
        if row is None or row.status != PUBLISHED:
            return None
        site_url = self.site_url()
        values = {
            "title": row.title,
            "content_html": row.content_html,
            "text": row.body_text,
            "author": row.username,
            "site": self.site.current.title,
            "site_url": site_url,
            "post_url": f"{site_url}/posts/{post_id}",
        }
        if len(row.content_html) <= INLINE_RENDER_MAX_CHARS:
            mail = _render(values)  # short: cheaper than the round trip to the pool
        else:
            # CPU work (sanitizing, inlining CSS) for milliseconds: in the process pool.
            mail = await asyncio.get_running_loop().run_in_executor(self.pool, _render, values)
        self._mails = {post_id: mail}  # one post at a time is being sent: keep the last
        return mail

    def site_url(self) -> str:
        return (self.settings.public_base_url or "http://localhost:8000").rstrip("/")

    async def queue_batch(self, post_id: int) -> int:
        """Queue the issue's next batch in one transaction; how many mails. An issue with no
        subscriber left is done; one whose post went back to draft or away while subscribers
        were left is stopped."""
        async with self.database.transaction() as session:
            issue = await session.get(NewsletterIssue, post_id, with_for_update=True)
            if issue is None or issue.done_at is not None:
                return 0
            rows = (
                await session.execute(
                    select(Subscription.id, Subscription.email, Subscription.token)
                    .where(_mailed_for(issue.author_id), Subscription.id > issue.cursor)
                    .order_by(Subscription.id)
                    .limit(self.batch)
                )
            ).all()
            if not rows:
                issue.done_at = utcnow()
                await session.commit()
                logger.info("Newsletter for post %d: %d mails queued", post_id, issue.queued)
                return 0
            # Rendered only when someone is left to send it to: a blog without subscribers
            # closes each new post's issue without rendering its mail.
            mail = await self._mail(session, post_id)
            if mail is None:  # the post went back to draft or away
                issue.done_at = issue.stopped_at = utcnow()
                await session.commit()
                return 0
            tokens: dict[str, str] = {}
            for row in rows:
                tokens.setdefault(row.email, row.token)  # the first subscription's link
            dialect = session.get_bind().dialect.name
            new = (
                await session.execute(
                    _insert_keys(dialect),
                    [
                        {"post_id": post_id, "email": email, "queued_at": utcnow()}
                        for email in tokens
                    ],
                )
            ).scalars()
            mails = self._mails_for(post_id, mail, [(email, tokens[email]) for email in new], issue)
            if mails:
                await session.execute(insert(OutboxMail), mails)
            issue.cursor = rows[-1].id
            issue.queued += len(mails)
            await session.commit()
            return len(mails)

    def _mails_for(
        self,
        post_id: int,
        mail: IssueMail,
        recipients: list[tuple[str, str]],
        issue: NewsletterIssue,
    ) -> list[dict[str, Any]]:
        site_url = self.site_url()
        host = urlsplit(site_url).hostname or "localhost"
        list_id = f"{_phrase(self.site.current.title)} <newsletter.{host}>"
        interval = 60.0 / self.settings.newsletter_mails_per_minute
        start: datetime = issue.created_at
        now = utcnow()
        rows = []
        for turn, (email, token) in enumerate(recipients, start=issue.queued):
            digest = hashlib.sha256(f"{post_id}:{email}".encode()).hexdigest()[:24]
            headers = {
                # The same id however often this mail is sent: receiving servers that see it
                # twice (a send retried after a crash) may drop the second.
                "Message-ID": f"<post-{post_id}.{digest}@{host}>",
                "List-Id": list_id,
                "List-Unsubscribe": f"<{site_url}/unsubscribe/{token}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            }
            rows.append(
                {
                    "recipient": email,
                    "subject": mail.subject[:200],
                    "body": mail.text.replace(UNSUBSCRIBE_MARK, token),
                    "html": mail.html.replace(UNSUBSCRIBE_MARK, token),
                    "headers": json.dumps(headers),
                    "topic": topic(post_id),
                    "created_at": now,
                    "due_at": max(start + timedelta(seconds=turn * interval), now),
                    "expires_at": now + MAIL_LIFETIME,
                    "attempts": 0,
                }
            )
        return rows


def _phrase(title: str) -> str:
    """The site's title as a mail header phrase (quoted, without line breaks)."""
    cleaned = " ".join(title.replace('"', "'").split())
    return f'"{cleaned}"'


def _render(values: dict[str, str]) -> IssueMail:
    return render_issue(**values)


def install(visibility: PostVisibility, sender: IssueSender) -> None:
    """At start-up: a post announced with `send_newsletter` gets its issue, and this
    process's sender looks at once (and only then)."""
    visibility.on_change(on_visibility, after_commit=sender.wake)
