"""The scheduled posts' day counters (migration 0030) beside a count of the rows."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.posts.models import Post, PostTag, ScheduledPostCount, ScheduledTagPostCount


def today() -> date:
    return datetime.now(UTC).date()


async def counters_ahead(session: AsyncSession) -> tuple[dict[Any, int], dict[Any, int]]:
    """The day counters of the days after today (those a total reads), and the same
    counted from the rows; by day, and by (tag id, day). Rows at zero left out."""
    await session.commit()  # a fresh snapshot
    ahead = datetime.combine(today() + timedelta(days=1), time(), UTC)
    kept: dict[Any, int] = {}
    counted: dict[Any, int] = {}
    for day, posts in await session.execute(
        select(ScheduledPostCount.day, ScheduledPostCount.posts).where(
            ScheduledPostCount.day > today()
        )
    ):
        kept[day] = posts
    for tag_id, day, posts in await session.execute(
        select(
            ScheduledTagPostCount.tag_id, ScheduledTagPostCount.day, ScheduledTagPostCount.posts
        ).where(ScheduledTagPostCount.day > today())
    ):
        kept[tag_id, day] = posts
    for (at,) in await session.execute(select(Post.published_at).where(Post.published_at >= ahead)):
        counted[at.date()] = counted.get(at.date(), 0) + 1
    for tag_id, at in await session.execute(
        select(PostTag.tag_id, PostTag.published_at).where(PostTag.published_at >= ahead)
    ):
        counted[tag_id, at.date()] = counted.get((tag_id, at.date()), 0) + 1
    return {key: n for key, n in kept.items() if n}, counted
