"""The dashboard's counts: one statement each (fastblog.db's compiled road), whatever the
size of the site: aggregates over indexed columns, no rows fetched."""

from typing import Any

from sqlalchemy import and_, case, func, select

from fastblog.accounts.models import User
from fastblog.db import Database, utcnow
from fastblog.posts.models import DRAFT, PUBLISHED, Post
from fastblog.posts.queries import NOW

# "review" is the contributors' status (issue 19's roles): counted by name, so the count is
# there as soon as the status is.
REVIEW = "review"


def _count_where(condition: Any, label: str) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0).label(label)


POSTS_BY_STATUS = select(
    _count_where(and_(Post.status == PUBLISHED, Post.published_at <= NOW), "published"),
    _count_where(and_(Post.status == PUBLISHED, Post.published_at > NOW), "scheduled"),
    _count_where(Post.status == DRAFT, "drafts"),
    _count_where(Post.status == REVIEW, "review"),
)
ACCOUNTS_BY_ROLE = select(User.role, func.count().label("accounts")).group_by(User.role)


async def post_counts(db: Database) -> dict[str, int]:
    row = await db.fetch_one(POSTS_BY_STATUS, {"now": utcnow()})
    return {name: int(value) for name, value in (row or {}).items()}


async def account_counts(db: Database) -> dict[str, int]:
    return {row["role"]: row["accounts"] for row in await db.fetch(ACCOUNTS_BY_ROLE)}
