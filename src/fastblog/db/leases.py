"""Leases: a named task that must run in one process of the cluster at a time (the task that
notices scheduled posts coming due) takes a row here before each pass.

A lease is a row (name, holder, expires_at). Taking it is one UPDATE that succeeds only when
the lease is free (expired) or already ours; SQLite runs writers one at a time and PostgreSQL
locks the row for the UPDATE, so two processes cannot both take it. A process killed while
holding it only delays the task until `expires_at`. No advisory lock: those exist on
PostgreSQL only, and a row works the same on both databases.
"""

from datetime import datetime, timedelta

from sqlalchemy import String, and_, bindparam, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from fastblog.db.base import Base, UTCDateTime, utcnow
from fastblog.db.database import Database


class TaskLease(Base):
    __tablename__ = "task_leases"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


_TAKE = (
    update(TaskLease)
    .where(
        and_(
            TaskLease.name == bindparam("name"),
            or_(
                TaskLease.expires_at <= bindparam("now"),
                TaskLease.holder == bindparam("holder"),
            ),
        )
    )
    .values(holder=bindparam("holder"), expires_at=bindparam("until"))
    .returning(TaskLease.name)
)
_RELEASE = (
    update(TaskLease)
    .where(TaskLease.name == bindparam("name"), TaskLease.holder == bindparam("holder"))
    .values(expires_at=bindparam("now"))
    .returning(TaskLease.name)
)
_CREATE = {
    name: insert(TaskLease)
    .values(name=bindparam("name"), holder="", expires_at=bindparam("now"))
    .on_conflict_do_nothing(index_elements=["name"])
    .returning(TaskLease.name)
    for name, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}


async def take_lease(db: Database, *, name: str, holder: str, seconds: float) -> bool:
    """Whether `holder` now holds the lease `name` for the next `seconds` (made if missing)."""
    now = utcnow()
    values = {"name": name, "holder": holder, "now": now, "until": now + timedelta(seconds=seconds)}
    if await db.write(_TAKE, values):
        return True
    # The row may not exist yet (a database made before the lease was): make it, free.
    if await db.write(_CREATE[db.dialect.name], {"name": name, "now": now}):
        return bool(await db.write(_TAKE, values))
    return False


async def release_lease(db: Database, *, name: str, holder: str) -> None:
    """Free the lease at once (if still ours), so the next process need not wait it out."""
    await db.write(_RELEASE, {"name": name, "holder": holder, "now": utcnow()})
