"""The inbox: what the routes queue (verified, 202) and the worker that handles it.

The worker runs in every process, but a pass takes the cluster-wide lease `federation-inbox`
(fastblog.db.leases), so one process at a time handles the queue, oldest first. Each
activity is handled in a transaction that also deletes its row: handled once, or (a crash)
not at all and again by the next pass. One that fails MAX_ATTEMPTS times is dropped.
"""

import json
import logging
import os
import socket
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.db import Database
from fastblog.db.leases import release_lease, take_lease
from fastblog.federation import handlers
from fastblog.federation.models import InboundActivity
from fastblog.polling import PollingLoop

logger = logging.getLogger(__name__)

LEASE = "federation-inbox"
BATCH = 50
MAX_ATTEMPTS = 5


def is_activity(document: Any) -> bool:
    """A JSON object with a type and an actor (an id, or an object with one)."""
    if not isinstance(document, dict) or not isinstance(document.get("type"), str):
        return False
    return handlers.id_of(document.get("actor")) is not None


async def enqueue(db: Database, *, user_id: int | None, actor: str, body: str) -> None:
    async with db.transaction() as session:
        session.add(InboundActivity(user_id=user_id, actor=actor[:500], body=body))
        await session.commit()


class InboxWorker:
    def __init__(
        self, database: Database, handler: handlers.Handlers, *, poll_seconds: float, lease: float
    ) -> None:
        self.database = database
        self.handler = handler
        self.poll_seconds = poll_seconds
        self.lease_seconds = lease
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._loop = PollingLoop("Federation inbox", self._pass, poll_seconds, log=logger)

    def wake(self) -> None:
        self._loop.wake()

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def _pass(self) -> bool:
        return await self.handle_queued() >= BATCH  # a full batch: more may be queued

    async def handle_queued(self) -> int:
        """One pass, if this process gets the lease; how many activities it took."""
        db = self.database
        async with db.session() as session:
            ids = list(
                (
                    await session.scalars(
                        select(InboundActivity.id).order_by(InboundActivity.id).limit(BATCH)
                    )
                ).all()
            )
        if not ids:
            return 0
        if not await take_lease(db, name=LEASE, holder=self.holder, seconds=self.lease_seconds):
            return 0
        try:
            for activity_id in ids:
                await self._handle_one(activity_id)
        finally:
            await release_lease(db, name=LEASE, holder=self.holder)
        return len(ids)

    async def _handle_one(self, activity_id: int) -> None:
        async with self.database.session() as session:
            row = await session.get(InboundActivity, activity_id)
        if row is None:
            return
        try:
            document = json.loads(row.body)
            prepared = await self.handler.prepare(document)  # remote fetches, outside
            async with self.database.transaction() as session:
                await self.handler.handle(session, document, prepared, user_id=row.user_id)
                await _done(session, activity_id)
                await session.commit()
        except Exception:
            logger.exception("Inbound activity #%d failed (attempt %d)", row.id, row.attempts + 1)
            async with self.database.transaction() as session:
                if row.attempts + 1 >= MAX_ATTEMPTS:
                    await _done(session, activity_id)
                else:
                    await session.execute(
                        update(InboundActivity)
                        .where(InboundActivity.id == activity_id)
                        .values(attempts=InboundActivity.attempts + 1)
                    )
                await session.commit()
        self.handler.after_commit()


async def _done(session: AsyncSession, activity_id: int) -> None:
    await session.execute(delete(InboundActivity).where(InboundActivity.id == activity_id))
