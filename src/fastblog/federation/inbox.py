"""The inbox: what the routes queue (verified, 202) and the worker that handles it.

The worker runs in every process, but a pass takes the cluster-wide lease `federation-inbox`
(fastblog.db.leases), so one process at a time handles the queue, oldest first. Each
activity is handled in a transaction that also deletes its row: handled once, or (a crash)
not at all and again by the next pass. One that fails MAX_ATTEMPTS times is dropped.
"""

import asyncio
import json
import logging
import os
import socket
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.background import finish_within, sleep_until
from fastblog.db import Database
from fastblog.db.leases import release_lease, take_lease
from fastblog.federation import handlers
from fastblog.federation.models import InboundActivity

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
        self._wake = asyncio.Event()
        self._stopping = False  # told to stop: the pass in hand is the last
        self._task: asyncio.Task[None] | None = None
        self._failing = False

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="federation inbox")

    async def stop(self) -> None:
        task, self._task = self._task, None
        self._stopping = True
        self._wake.set()
        await finish_within(task)

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                handled = await self.handle_queued()
                self._failing = False
            except Exception as exc:  # must outlive a database outage
                if not self._failing:
                    logger.warning("Federation inbox: cannot reach the database (%s)", exc)
                self._failing, handled = True, 0
            if handled >= BATCH:
                continue
            await sleep_until(self._wake, self.poll_seconds)

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
