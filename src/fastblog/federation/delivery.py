"""Delivery: activities to remote inboxes, through ap_deliveries.

- `queue_activity(session, ...)` writes one row per inbox in the caller's transaction (the
  one that announces, edits or deletes the post, or handles a Follow); the unique key
  (activity_id, inbox) makes queueing twice a no-op.
- `DeliverySender` runs in every process, as the mail outbox's sender does: it claims due
  rows with one UPDATE that sets a lease (PostgreSQL picks them FOR UPDATE SKIP LOCKED, so
  two hosts never claim one row; SQLite's writers take turns), signs and POSTs each, deletes
  it once the inbox took it. A failure is retried with doubling waits (OUTBOX_RETRY_SECONDS,
  at most an hour apart); past FEDERATION_DELIVERY_HOURS, or on a refusal that will not
  change (4xx other than 408 and 429), the row is given up. A process killed mid-send leaves
  a lease that lapses; another process sends the row then (at least once: an inbox may see
  an activity twice, and keys on its id).
"""

import asyncio
import json
import logging
from collections.abc import Collection
from concurrent.futures import Executor
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.config import Settings
from fastblog.db import Database, Row, utcnow
from fastblog.db.claims import leased_queue
from fastblog.federation.actors import domain_of
from fastblog.federation.documents import AP_CONTENT_TYPE
from fastblog.federation.fetch import FetchError, Remote, status_of
from fastblog.federation.keys import actor_key
from fastblog.federation.models import (
    ActorKey,
    BlockedDomain,
    Delivery,
    RemoteActor,
    RemoteFollower,
)
from fastblog.federation.signatures import load_private_key, sign_headers
from fastblog.outbox.sender import retry_delay
from fastblog.polling import PollingLoop

logger = logging.getLogger(__name__)

CLAIM_BATCH = 10
STOP_GRACE_SECONDS = 10.0

QUEUE = leased_queue(
    Delivery, Delivery.inbox, Delivery.author_id, Delivery.body, Delivery.created_at
)
KEY = select(ActorKey.private_pem).where(ActorKey.user_id == bindparam("user_id"))


def _insert(dialect: str) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(Delivery).on_conflict_do_nothing(index_elements=["activity_id", "inbox"])


async def follower_inboxes(session: AsyncSession, author_id: int) -> list[str]:
    """Each follower's shared inbox (or own inbox), once, leaving out blocked domains."""
    return (await followers_inboxes(session, {author_id})).get(author_id, [])


async def followers_inboxes(
    session: AsyncSession, author_ids: Collection[int]
) -> dict[int, list[str]]:
    """`follower_inboxes` of several authors in one read; those with none are left out."""
    inbox = RemoteActor.shared_inbox.label("shared"), RemoteActor.inbox
    rows = (
        await session.execute(
            select(RemoteFollower.user_id, *inbox)
            .select_from(RemoteActor)
            .join(RemoteFollower, RemoteFollower.actor_id == RemoteActor.id)
            .where(RemoteFollower.user_id.in_(author_ids))
        )
    ).all()
    if not rows:  # most authors of most blogs: no list of blocked domains to read
        return {}
    blocked = set((await session.scalars(select(BlockedDomain.domain))).all())
    found: dict[int, set[str]] = {}
    for row in rows:
        found.setdefault(row.user_id, set()).add(row.shared or row.inbox)
    allowed = {
        author_id: sorted(address for address in addresses if not is_blocked(address, blocked))
        for author_id, addresses in found.items()
    }
    return {author_id: inboxes for author_id, inboxes in allowed.items() if inboxes}


def is_blocked(uri: str, blocked: set[str]) -> bool:
    parts = domain_of(uri).split(".")
    return any(".".join(parts[i:]) in blocked for i in range(len(parts)))


async def queue_activity(
    session: AsyncSession, *, activity: dict[str, Any], author_id: int, inboxes: list[str]
) -> int:
    """Queue `activity` to each inbox in the caller's transaction; how many rows."""
    if not inboxes:
        return 0
    now = utcnow()
    body = json.dumps(activity, ensure_ascii=False)
    rows = [
        {
            "activity_id": activity["id"][:500],
            "inbox": inbox,
            "author_id": author_id,
            "body": body,
            "created_at": now,
            "due_at": now,
            "attempts": 0,
        }
        for inbox in inboxes
    ]
    await session.execute(_insert(session.get_bind().dialect.name), rows)
    return len(rows)


def permanent(error: FetchError) -> bool:
    """A refusal that will not change by trying again."""
    status = status_of(error)
    return status is not None and 400 <= status < 500 and status not in {408, 429}


class DeliverySender:
    """Sends what ap_deliveries holds; one per process, started by the lifespan."""

    def __init__(
        self,
        database: Database,
        remote: Remote,
        settings: Settings,
        *,
        key_id_of: Any,
        pool: Executor,
        batch: int = CLAIM_BATCH,
    ) -> None:
        self.database = database
        self.pool = pool
        self.remote = remote
        self.settings = settings
        self.key_id_of = key_id_of  # user id -> key id (fastblog.federation.documents)
        self.batch = batch
        self.give_up_after = timedelta(hours=settings.federation_delivery_hours)
        self._keys: dict[int, rsa.RSAPrivateKey] = {}
        poll = settings.federation_poll_seconds
        self._loop = PollingLoop("Federation delivery", self._pass, poll, log=logger)

    def wake(self) -> None:
        self._loop.wake()

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop(STOP_GRACE_SECONDS)  # a POST in flight may take its timeout

    async def _pass(self) -> bool:
        return await self.send_due() == self.batch  # a full batch: more may be due

    async def send_due(self) -> int:
        """Claim the due deliveries, try each once; how many were claimed."""
        now = utcnow()
        if await self.database.fetch_one(QUEUE.any_due, {"now": now}) is None:
            return 0
        lease_end = now + timedelta(seconds=self.settings.outbox_lease_seconds)
        rows = await self.database.write(
            QUEUE.claim, {"now": now, "lease_end": lease_end, "batch": self.batch}
        )
        outcomes = await asyncio.gather(
            *(self._attempt(row, lease_end) for row in rows), return_exceptions=True
        )
        for row, outcome in zip(rows, outcomes, strict=True):
            if isinstance(outcome, Exception):
                logger.error("Delivery #%d: could not record the attempt: %r", row["id"], outcome)
        return len(rows)

    async def _key(self, user_id: int) -> rsa.RSAPrivateKey:
        """The author's private key; made now if nothing asked for their actor before (a
        server may follow without fetching it first)."""
        key = self._keys.get(user_id)
        if key is None:
            row = await self.database.fetch_one(KEY, {"user_id": user_id})
            pem = row["private_pem"] if row else None
            if pem is None:
                pem = (await actor_key(self.database, self.pool, user_id)).private_pem
            key = self._keys[user_id] = load_private_key(pem)
        return key

    async def _attempt(self, row: Row, lease_end: datetime) -> None:
        ours = {"id": row["id"], "lease_end": lease_end}
        key = await self._key(row["author_id"])
        body = row["body"].encode()
        headers = sign_headers(
            method="POST",
            url=row["inbox"],
            body=body,
            key_id=self.key_id_of(row["author_id"]),
            private_key=key,
        )
        headers["Content-Type"] = AP_CONTENT_TYPE
        try:
            await self.remote.post(row["inbox"], body=body, headers=headers)
        except FetchError as exc:
            await self._failed(row, ours, exc)
            return
        await self.database.write(QUEUE.sent, ours)
        logger.info("Delivery #%d to %s sent", row["id"], row["inbox"])

    async def _failed(self, row: Row, ours: dict[str, Any], error: FetchError) -> None:
        now = utcnow()
        if permanent(error) or now - row["created_at"] >= self.give_up_after:
            await self._give_up(row, ours, str(error))
            return
        delay = retry_delay(row["attempts"], first_seconds=self.settings.outbox_retry_seconds)
        values = {**ours, "due_at": now + delay, "error": str(error)[:500]}
        await self.database.write(QUEUE.try_again, values)
        logger.warning(
            "Delivery #%d to %s failed (attempt %d), again in %.0f s: %s",
            row["id"],
            row["inbox"],
            row["attempts"],
            delay.total_seconds(),
            error,
        )

    async def _give_up(self, row: Row, ours: dict[str, Any], reason: str) -> None:
        await self.database.write(QUEUE.give_up, {**ours, "now": utcnow(), "error": reason[:500]})
        logger.error("Delivery #%d to %s given up: %s", row["id"], row["inbox"], reason)
