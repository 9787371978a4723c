"""The tag routes of issue 23 (p95 < 50 ms at a million posts): the tag list, the most used
tag's page, and a prolific writer's posts with that tag."""

import asyncio

from sqlalchemy import func, select

from bench.wrk import Scenario
from fastblog.config import Settings
from fastblog.db.engine import create_engine
from fastblog.posts.models import Tag, TagPostCount, UserTagPostCount

TAG_ROUTES = (
    "GET /api/tags",
    "GET /tags/{tag}",
    "GET /api/users/{id}/posts?tag={tag}",
)


async def most_used(url: str) -> tuple[str, int]:
    """The most used tag and the writer who used it most, from the trigger-kept counters
    (published posts): a read of a few thousand counter rows, where counting post_tags took
    a minute at a million posts (and ~50 times that under callgrind, bench.request_cpu)."""
    engine = create_engine(Settings(database_url=url))
    try:
        async with engine.connect() as connection:
            tag_id, name = (
                await connection.execute(
                    select(Tag.id, Tag.name)
                    .join(TagPostCount, TagPostCount.tag_id == Tag.id)
                    .group_by(Tag.id, Tag.name)
                    .order_by(func.sum(TagPostCount.posts).desc(), Tag.id)
                    .limit(1)
                )
            ).one()
            user_id = await connection.scalar(
                select(UserTagPostCount.user_id)
                .where(UserTagPostCount.tag_id == tag_id)
                .group_by(UserTagPostCount.user_id)
                .order_by(func.sum(UserTagPostCount.posts).desc(), UserTagPostCount.user_id)
                .limit(1)
            )
    finally:
        await engine.dispose()
    return name, int(user_id)


def tag_scenarios(url: str) -> dict[str, Scenario]:
    tag, user_id = asyncio.run(most_used(url))
    print(f"  tag routes: tag {tag!r}, user {user_id}")
    paths = (
        "/api/tags",
        f"/tags/{tag}",
        f"/api/users/{user_id}/posts?tag={tag}",
    )
    names = ("tags", "tag-page", "user-tag")
    return {
        route: Scenario(name, path)
        for route, name, path in zip(TAG_ROUTES, names, paths, strict=True)
    }
