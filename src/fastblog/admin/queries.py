"""The dashboard's counts: one statement each (fastblog.db's compiled road), whatever the
size of the site: aggregates over indexed columns, no rows fetched."""

from typing import Any

from sqlalchemy import and_, case, func, select

from fastblog.accounts.models import Invitation, User
from fastblog.comments.queries import count_pending
from fastblog.db import Database, utcnow
from fastblog.posts.models import DRAFT, PUBLISHED, Post
from fastblog.posts.queries import NOW

# A post in review is a draft submitted to the editors (fastblog.posts.queries.IN_REVIEW):
# it counts there, not among the drafts its author is still writing.
IN_REVIEW = and_(Post.status == DRAFT, Post.submitted_at.is_not(None))


def _count_where(condition: Any, label: str) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0).label(label)


POSTS_BY_STATUS = select(
    _count_where(and_(Post.status == PUBLISHED, Post.published_at <= NOW), "published"),
    _count_where(and_(Post.status == PUBLISHED, Post.published_at > NOW), "scheduled"),
    _count_where(and_(Post.status == DRAFT, Post.submitted_at.is_(None)), "drafts"),
    _count_where(IN_REVIEW, "review"),
)
ACCOUNTS_BY_ROLE = select(User.role, func.count().label("accounts")).group_by(User.role)
# Not used and not expired, as fastblog.accounts.invitations.pending lists them.
PENDING_INVITATIONS = select(func.count().label("pending")).where(
    Invitation.accepted_at.is_(None), Invitation.expires_at > NOW
)


async def post_counts(db: Database) -> dict[str, int]:
    row = await db.fetch_one(POSTS_BY_STATUS, {"now": utcnow()})
    return {name: int(value) for name, value in (row or {}).items()}


async def account_counts(db: Database) -> dict[str, int]:
    return {row["role"]: row["accounts"] for row in await db.fetch(ACCOUNTS_BY_ROLE)}


async def waiting_comments(db: Database) -> int:
    """Comments waiting for an editor's approval (the partial index on pending ones)."""
    return await count_pending(db)


async def pending_invitations(db: Database) -> int:
    row = await db.fetch_one(PENDING_INVITATIONS, {"now": utcnow()})
    return int(row["pending"]) if row else 0
