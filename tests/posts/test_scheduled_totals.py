"""A list's total leaves out the published posts whose time has not come, read from day
counters kept by triggers (scheduled_post_counts, scheduled_tag_post_counts: migration 0030)
for the days after today, and counted by the index for the rest of today. Each way a
scheduled post can change must keep what readers are told equal to what they can page
through, and the counters of the days ahead equal to a count of the rows."""

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.db.compiled import compile_query
from fastblog.posts import queries
from fastblog.posts.models import (
    Post,
    PostTag,
    ScheduledPostCount,
    Tag,
)
from fastblog.resources import Resources
from tests.factories import api_created_post, due_now, login, make_user
from tests.posts.scheduled import counters_ahead, today

pytestmark = pytest.mark.anyio


async def told_and_shown(client: httpx.AsyncClient, url: str) -> tuple[int, int]:
    """The total a reader is told, and how many posts they can page through."""
    response = await client.get(httpx.URL(url).copy_merge_params({"limit": 100}))
    assert response.status_code == 200, response.text
    return response.json()["total"], len(response.json()["posts"])


async def assert_right(client: httpx.AsyncClient, session: AsyncSession, tags: list[str]) -> None:
    for url in ("/api/posts", *(f"/api/posts?tag={tag}" for tag in tags)):
        total, shown = await told_and_shown(client, url)
        assert total == shown, url
    kept, counted = await counters_ahead(session)
    assert kept == counted


def later_today() -> datetime | None:
    """A moment later today (UTC), if the day has one left that a test can wait past."""
    now = datetime.now(UTC)
    midnight = datetime.combine(today() + timedelta(days=1), time(), UTC)
    return now + (midnight - now) / 2 if midnight - now > timedelta(minutes=2) else None


async def test_a_post_scheduled_tomorrow_later_today_or_in_a_year_is_left_out_of_the_totals(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    await api_created_post(client, author, title="Now", tags=["python"])
    now = datetime.now(UTC)
    times = [now + timedelta(days=1), now + timedelta(days=365), later_today()]
    for when in (at for at in times if at is not None):
        await api_created_post(client, author, tags=["python"], published_at=when.isoformat())

    assert await told_and_shown(client, "/api/posts") == (1, 1)
    assert await told_and_shown(client, "/api/posts?tag=python") == (1, 1)
    home, tag_page = await client.get("/"), await client.get("/tags/python")
    assert home.status_code == tag_page.status_code == 200
    kept, counted = await counters_ahead(session)
    assert kept == counted
    assert sum(n for key, n in kept.items() if isinstance(key, date)) == 2  # tomorrow, a year


async def test_a_scheduled_post_whose_time_comes_joins_the_totals(
    client: httpx.AsyncClient, session: AsyncSession, resources: Resources
) -> None:
    """Time moved by an UPDATE of published_at into the past (tests/factories.due_now): the
    counter of the day it left goes down."""
    author = await make_user(session)
    ahead = [
        await api_created_post(
            client, author, title=f"Ahead {n}", tags=["python"], published_at=when.isoformat()
        )
        for n, when in enumerate(
            [datetime.now(UTC) + timedelta(days=2), datetime.now(UTC) + timedelta(days=2, hours=1)]
        )
    ]
    assert await told_and_shown(client, "/api/posts?tag=python") == (0, 0)

    await due_now(resources.database, [ahead[0]["id"]])

    assert await told_and_shown(client, "/api/posts") == (1, 1)
    assert await told_and_shown(client, "/api/posts?tag=python") == (1, 1)
    await assert_right(client, session, ["python"])


async def test_a_scheduled_post_moved_unpublished_retagged_or_deleted_keeps_the_totals_right(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    headers = await login(client, author)
    await api_created_post(client, author, title="Now", tags=["python", "sql"])
    in_three_days = datetime.now(UTC) + timedelta(days=3)
    post = await api_created_post(
        client, author, title="Ahead", tags=["python"], published_at=in_three_days.isoformat()
    )
    url = f"/api/posts/{post['id']}"
    tags = ["python", "sql"]

    async def edit(**body: Any) -> None:
        response = await client.patch(url, json=body, headers=headers)
        assert response.status_code == 200, response.text
        await assert_right(client, session, tags)

    await assert_right(client, session, tags)
    await edit(published_at=(in_three_days + timedelta(days=30)).isoformat())  # another day
    await edit(tags=["sql"])  # retagged while scheduled
    await edit(status="draft")  # unpublished
    await edit(published_at=in_three_days.isoformat())  # scheduled again
    await edit(published_at=datetime.now(UTC).isoformat(), tags=["python"])  # out now
    assert await told_and_shown(client, "/api/posts?tag=python") == (2, 2)
    await edit(published_at=in_three_days.isoformat())  # taken back into the future
    assert await told_and_shown(client, "/api/posts?tag=python") == (1, 1)
    deleted = await client.delete(url, headers=headers)
    assert deleted.status_code == 204, deleted.text
    await assert_right(client, session, tags)
    kept, _ = await counters_ahead(session)
    assert kept == {}


async def test_a_deleted_authors_scheduled_posts_leave_the_counters(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    staying, leaving = await make_user(session), await make_user(session)
    for author in (staying, leaving, leaving):
        for days in (1, 9):
            when = datetime.now(UTC) + timedelta(days=days)
            await api_created_post(client, author, tags=["shared"], published_at=when.isoformat())
    await api_created_post(client, staying, tags=["shared"])

    deleted = await client.delete(f"/api/users/{leaving.id}", headers=await login(client, leaving))

    assert deleted.status_code == 204, deleted.text
    await assert_right(client, session, ["shared"])
    assert await told_and_shown(client, "/api/posts?tag=shared") == (1, 1)


async def test_the_totals_read_the_day_counters_not_every_scheduled_post(
    resources: Resources, session: AsyncSession
) -> None:
    """500 posts scheduled over the coming months: the site's and a tag's totals read one
    counter row per day ahead and today's few posts, not 500 index entries each."""
    author = await make_user(session)
    tag = Tag(name="python")
    session.add(tag)
    await session.flush()
    now = datetime.now(UTC)
    posts = [
        Post(title=f"Ahead {n}", content="c", user_id=author.id,
             published_at=now + timedelta(days=1 + n % 50, minutes=n))
        for n in range(500)
    ]  # fmt: skip
    session.add_all(posts)
    await session.flush()
    session.add_all(PostTag(post_id=post.id, tag_id=tag.id) for post in posts)
    await session.commit()
    engine = resources.database.engine
    values = {"now": now, **queries.scheduled_bounds(now), "tag": "python"}

    for statement in (queries.TOTAL, queries.TAG_TOTAL):
        query = compile_query(statement, engine.dialect)
        async with engine.connect() as connection:
            (total,) = (await connection.exec_driver_sql(query.sql, query.parameters(values))).one()
            assert total == 0
            if engine.dialect.name == "sqlite":
                steps = await connection.exec_driver_sql(
                    f"EXPLAIN QUERY PLAN {query.sql}", query.parameters(values)
                )
                assert "scheduled_" in " ".join(str(step[-1]) for step in steps)
                continue
            plan = "\n".join(
                row[0]
                for row in await connection.exec_driver_sql(
                    f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) {query.sql}",
                    query.parameters(values),
                )
            )
        assert "scheduled_" in plan, plan
        # posts' and post_tags' index ranges: today's posts ahead only (none here), not 500.
        ranged = [line for line in plan.splitlines() if re.search(r" on post(s|_tags) ", line)]
        assert ranged, plan
        assert all("actual rows=0 " in line for line in ranged), plan
    days = await session.scalar(select(func.count()).select_from(ScheduledPostCount))
    assert days in {50, 51}  # (the last posts may reach a 51st day)
