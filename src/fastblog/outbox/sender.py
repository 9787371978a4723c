"""Queueing a mail in a transaction, and the sender every app process runs."""

import asyncio
import json
import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.config import Settings
from fastblog.db import Database, Row, utcnow
from fastblog.mail import SEND_TIMEOUT_SECONDS, MailConnection, Mailer, MailNotSentError
from fastblog.outbox import queries
from fastblog.outbox.models import OutboxMail
from fastblog.polling import PollingLoop

logger = logging.getLogger(__name__)

CLAIM_BATCH = 10  # mails claimed per pass
# A pass's mails go out over this many SMTP connections at once, one mail after another on
# each: a connection per mail cost a connect, EHLO (and STARTTLS, login) and QUIT each time,
# and the connection's garbage; one for the whole batch would wait for each mail's round
# trips in turn.
CONNECTIONS_PER_PASS = 3
MAX_RETRY_DELAY = timedelta(hours=1)
# At shutdown the sends in flight may finish (each is bounded by the SMTP timeout); past this
# the task is cancelled and the leases of its mails lapse instead.
STOP_GRACE_SECONDS = SEND_TIMEOUT_SECONDS + 5


def queue_mail(
    session: AsyncSession,
    *,
    to: str,
    subject: str,
    body: str,
    expires_at: datetime | None = None,
) -> None:
    """Add a mail to the caller's transaction: it exists once, and only if, the caller commits.
    Then call `OutboxSender.wake()` so that this process sends it at once. (Many mails at once,
    multipart, with headers: insert OutboxMail rows in bulk, as fastblog.newsletter does.)"""
    session.add(OutboxMail(recipient=to, subject=subject, body=body, expires_at=expires_at))


def retry_delay(attempts: int, *, first_seconds: float) -> timedelta:
    """How long to wait after the `attempts`-th failure: `first_seconds` after the first,
    twice as long after each next one, at most MAX_RETRY_DELAY."""
    doublings = min(attempts - 1, 20)  # past the cap already; keeps the number finite
    return min(timedelta(seconds=first_seconds * 2**doublings), MAX_RETRY_DELAY)


class OutboxSender:
    """Sends what the outbox holds: claims due mails, sends them, deletes them.

    Every app process runs one, so a mail goes out as long as any process is up. Started and
    stopped by the lifespan (fastblog.main); `send_due()` is one pass, for tests and tools.
    """

    def __init__(
        self, database: Database, mailer: Mailer, settings: Settings, *, batch: int = CLAIM_BATCH
    ) -> None:
        self.database = database
        self.mailer = mailer
        self.settings = settings
        self.batch = batch
        self._stopping = False  # told to stop: mails not yet started wait for another pass
        self._claiming = False  # from the claim until its attempts are recorded
        # Mails due later than now were queued (a newsletter's, spread under its rate): sleep
        # until the next is due rather than a whole poll, until none is left.
        self._later = False
        self._loop = PollingLoop("Mail outbox", self._pass, self._until_next, log=logger)

    def wake(self, *, later: bool = False) -> None:
        """A mail was just committed: look now rather than at the next poll. `later`: some
        of the mails are due later (they are looked for when due, not at the next poll)."""
        self._later = self._later or later
        self._loop.wake()

    def start(self) -> None:
        self._stopping = False
        self._loop.start()

    async def stop(self) -> None:
        """Let the sends in flight finish (within STOP_GRACE_SECONDS), then end the task."""
        self._stopping = True
        # Nothing claimed: at most a read of the outbox is waiting (on a database that hangs,
        # for the whole connect timeout). Nothing is lost by ending it now.
        await self._loop.stop(STOP_GRACE_SECONDS if self._claiming else 0)

    async def _pass(self) -> bool:
        return await self.send_due() == self.batch  # a full batch: there may be more waiting

    async def _until_next(self) -> float:
        """Seconds to sleep: until the next waiting mail is due (when mails due later were
        queued), at most a poll."""
        poll = self.settings.outbox_poll_seconds
        if not self._later:
            return poll
        try:
            row = await self.database.fetch_one(queries.NEXT_DUE)
        except Exception:  # an outage: the pass says so; wait a poll
            return poll
        if row is None:
            self._later = False
            return poll
        due_at: datetime = row["due_at"]
        return min(max((due_at - utcnow()).total_seconds(), 0.005), poll)

    async def send_due(self) -> int:
        """Claim the mails that are due, try each once, and say how many were claimed."""
        now = utcnow()
        if await self.database.fetch_one(queries.QUEUE.any_due, {"now": now}) is None:
            return 0
        lease_end = now + timedelta(seconds=self.settings.outbox_lease_seconds)
        self._claiming = True
        try:
            mails = await self.database.write(
                queries.QUEUE.claim, {"now": now, "lease_end": lease_end, "batch": self.batch}
            )
            shares = [mails[n::CONNECTIONS_PER_PASS] for n in range(CONNECTIONS_PER_PASS)]
            # A mail after the first on a connection starts only while half the lease is
            # left (and the process is not stopping): the rest wait for their lease to lapse
            # and are claimed again, never sent by a sender whose claim ran out.
            last_start = now + (lease_end - now) / 2
            await asyncio.gather(
                *(self._send(share, lease_end, last_start) for share in shares if share)
            )
        finally:
            self._claiming = False
        return len(mails)

    async def _send(self, mails: list[Row], lease_end: datetime, last_start: datetime) -> None:
        """Each mail in turn on one connection, each attempt recorded on its own before the
        next: a mail that fails is tried again later and takes no other with it."""
        async with self.mailer.connection() as connection:
            for index, mail in enumerate(mails):
                if index and (self._stopping or utcnow() > last_start):
                    return
                try:
                    await self._attempt(mail, lease_end, connection)
                except Exception as exc:
                    # Sent or not, the row could not be updated: its lease lapses and it is
                    # tried again (at least once delivery).
                    logger.error("Mail #%d: could not record the attempt: %r", mail["id"], exc)

    async def _attempt(self, mail: Row, lease_end: datetime, connection: MailConnection) -> None:
        ours = {"id": mail["id"], "lease_end": lease_end}
        expires_at = mail["expires_at"]
        if expires_at is not None and expires_at <= utcnow():
            await self._give_up(mail, ours, "expired before it could be sent")
            return
        try:
            await connection.send(
                to=mail["recipient"],
                subject=mail["subject"],
                body=mail["body"],
                html=mail["html"],
                headers=json.loads(mail["headers"]) if mail["headers"] else None,
            )
        except MailNotSentError as exc:
            await self._failed(mail, ours, str(exc))
            return
        await self.database.write(queries.QUEUE.sent, ours)
        logger.info("Mail #%d sent (attempt %d)", mail["id"], mail["attempts"])

    async def _failed(self, mail: Row, ours: dict[str, object], error: str) -> None:
        attempts, most = mail["attempts"], self.settings.outbox_max_attempts
        if attempts >= most:
            await self._give_up(mail, ours, f"{attempts} attempts failed; the last: {error}")
            return
        delay = retry_delay(attempts, first_seconds=self.settings.outbox_retry_seconds)
        values = {**ours, "due_at": utcnow() + delay, "error": error[:500]}
        await self.database.write(queries.QUEUE.try_again, values)
        logger.warning(
            "Mail #%d not sent (attempt %d of %d), trying again in %.0f s: %s",
            mail["id"],
            attempts,
            most,
            delay.total_seconds(),
            error,
        )

    async def _give_up(self, mail: Row, ours: dict[str, object], reason: str) -> None:
        values = {**ours, "now": utcnow(), "error": reason[:500]}
        await self.database.write(queries.QUEUE.give_up, values)
        logger.error("Mail #%d to %s given up: %s", mail["id"], mail["recipient"], reason)
