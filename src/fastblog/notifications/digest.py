"""The notification digest: a mail, at most one an hour, to each user who asked for it
(`users.notify_by_mail`), telling of the comments on their posts and the new followers they
have not seen yet. Likes are not mailed.

Every app process runs a DigestSender; each pass (NOTIFICATION_DIGEST_POLL_SECONDS) finds
the users with something to tell, and for each one, in one transaction:

1. inserts the digest's key, (user, hour) — the primary key of notification_digests, so a
   second process, or a retry, finds it taken and sends nothing (ON CONFLICT DO NOTHING; on
   PostgreSQL a second insert of the same key waits for the first transaction, then finds it);
2. claims the notifications to tell about (an UPDATE that sets `mailed_at` where it is still
   null: two processes never claim the same one, and none is mailed twice);
3. queues the mail in the durable outbox (fastblog.outbox), which sends it after the commit.

Everything commits together or not at all. A user is due when nothing was mailed to them in
the last hour, so digests are at least an hour apart. Notifications read in the app before
the digest goes out are left out; so are those older than a day (turning the mails on does
not mail the past).
"""

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, exists, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from fastblog.config import Settings
from fastblog.db import Database, utcnow
from fastblog.notifications import queries
from fastblog.notifications.models import (
    COMMENT,
    MAILED_KINDS,
    Notification,
    NotificationDigest,
)
from fastblog.outbox import OutboxSender, queue_mail
from fastblog.polling import PollingLoop
from fastblog.site.store import SiteSettingsStore

logger = logging.getLogger(__name__)

DIGEST_EVERY = timedelta(hours=1)
FRESH_FOR = timedelta(days=1)  # older notifications are not mailed
USERS_PER_PASS = 50
LOCAL_ADDRESS = "http://localhost:8000"  # links in the mail without PUBLIC_BASE_URL

ME = bindparam("user_id", type_=Notification.recipient_id.type)
NOW = bindparam("now", type_=Notification.created_at.type)
SINCE = bindparam("since", type_=Notification.created_at.type)
HOUR_AGO = bindparam("hour_ago", type_=NotificationDigest.sent_at.type)

TO_MAIL = and_(
    Notification.mailed_at.is_(None),
    Notification.read_at.is_(None),
    or_(*(Notification.kind == kind for kind in MAILED_KINDS)),  # no IN: the compiled road
    Notification.created_at > SINCE,
)
# Who has something to be told, and was told nothing in the last hour: found from the day's
# notifications (the created_at index), not from every user.
DUE = (
    select(User.id, User.email, User.username)
    .where(
        User.id.in_(select(Notification.recipient_id).where(TO_MAIL)),
        User.notify_by_mail,
        ~exists().where(
            NotificationDigest.user_id == User.id, NotificationDigest.sent_at > HOUR_AGO
        ),
    )
    .limit(bindparam("batch"))
)
CLAIM = (
    update(Notification)
    .where(Notification.recipient_id == ME, TO_MAIL)
    .values(mailed_at=NOW)
    .returning(Notification.id)
)
FORGET = delete(NotificationDigest).where(NotificationDigest.sent_at < SINCE)


def _digest_key(session: AsyncSession, user_id: int, now: datetime) -> Any:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    hour = now.replace(minute=0, second=0, microsecond=0)
    return (
        insert(NotificationDigest)
        .values(user_id=user_id, hour=hour, sent_at=now)
        .on_conflict_do_nothing(index_elements=["user_id", "hour"])
        .returning(NotificationDigest.user_id)
    )


def _line(note: dict[str, Any], base_url: str) -> str:
    actor = note["actor"]["username"]
    if note["kind"] == COMMENT:
        post, comment = note["post"], note["comment"]
        link = f"{base_url}/posts/{post['id']}/{post['slug']}#comment-{comment['id']}"
        return f'- {actor} commented on "{post["title"]}":\n  {comment["excerpt"]}\n  {link}'
    return f"- {actor} followed you\n  {base_url}/users/{note['actor']['id']}/posts"


def compose(
    username: str, notes: list[dict[str, Any]], *, site_title: str, base_url: str
) -> tuple[str, str]:
    """The digest's subject and plain-text body."""
    comments = sum(note["kind"] == COMMENT for note in notes)
    follows = len(notes) - comments
    parts = [f"{comments} new comment{'s' * (comments != 1)}"] if comments else []
    parts += [f"{follows} new follower{'s' * (follows != 1)}"] if follows else []
    subject = f"{site_title}: {' and '.join(parts)}"
    lines = "\n\n".join(_line(note, base_url) for note in notes)
    body = (
        f"Hello {username},\n\nNew on {site_title} since you last looked:\n\n{lines}\n\n"
        f"All your notifications: {base_url}/notifications\n"
        f"You get this mail (at most one an hour) because you asked for it; turn it off on "
        f"{base_url}/account#notifications\n"
    )
    return subject, body


class DigestSender:
    """Mails the notification digests. Every app process runs one (started and stopped by
    the lifespan, fastblog.main); `send_due()` is one pass, for tests and tools."""

    def __init__(
        self,
        database: Database,
        outbox: OutboxSender,
        site: SiteSettingsStore,
        settings: Settings,
    ) -> None:
        self.database = database
        self.outbox = outbox
        self.site = site
        self.settings = settings
        poll = settings.notification_digest_poll_seconds
        self._loop = PollingLoop("Notification digests", self._pass, poll, log=logger)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        # A pass is a few short transactions: it ends soon; a stuck one is cancelled.
        await self._loop.stop()

    async def _pass(self) -> bool:
        await self.send_due()
        return False  # more users due wait for the next poll: a digest is not urgent

    async def send_due(self, now: datetime | None = None) -> int:
        """Queue the digests that are due; how many were queued."""
        now = now or utcnow()
        values = {
            "since": now - FRESH_FOR,
            "hour_ago": now - DIGEST_EVERY,
            "batch": USERS_PER_PASS,
        }
        users = await self.database.fetch(DUE, values)
        queued = 0
        for user in users:
            queued += await self._digest(user, now)
        if queued:
            self.outbox.wake()
            await self.database.write(FORGET, {"since": now - FRESH_FOR})
        return queued

    async def _digest(self, user: dict[str, Any], now: datetime) -> int:
        base_url = (self.settings.public_base_url or LOCAL_ADDRESS).rstrip("/")
        site_title = self.site.current.title
        async with self.database.transaction() as session:
            key = await session.execute(_digest_key(session, user["id"], now))
            if key.first() is None:
                return 0  # this hour's digest is another process's (or was sent)
            values = {"user_id": user["id"], "now": now, "since": now - FRESH_FOR}
            ids = list((await session.scalars(CLAIM, values)).all())
            if not ids:
                await session.rollback()  # told meanwhile: the hour stays free
                return 0
            rows = (await session.execute(queries.BY_IDS, {"ids": ids})).mappings().all()
            notes = [queries.shaped(dict(row)) for row in rows]
            subject, body = compose(
                user["username"], notes, site_title=site_title, base_url=base_url
            )
            queue_mail(session, to=user["email"], subject=subject, body=body)
            await session.commit()
        logger.info("Notification digest queued for user #%d (%d items)", user["id"], len(notes))
        return 1
