"""The lists' statements as each database plans them: an index serves the order and the cursor's
range (no full scan of posts, no sort of all rows), so a deep page costs what page one costs."""

import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.db.compiled import compile_query
from fastblog.posts import queries, related
from fastblog.resources import Resources
from tests.factories import make_posts, make_user

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 12, 1, tzinfo=UTC)
VALUES = {
    "now": NOW,
    "skip": 0,
    "limit": 11,
    "key_at": datetime(2026, 3, 3, 9, 5, tzinfo=UTC),
    "key_id": 3,
    "user_id": 1,
    "tag": "python",
}


async def plan(resources: Resources, statement: Any) -> str:
    """The plan's text. On PostgreSQL with sequential scans and sorts priced out: if the plan
    still scans or sorts, no index can serve the statement."""
    engine = resources.database.engine
    query = compile_query(statement, engine.dialect)
    parameters = query.parameters(VALUES)
    async with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            rows = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {query.sql}", parameters)
            return "\n".join(row[3] for row in rows)
        await connection.exec_driver_sql("SET enable_seqscan = off")
        await connection.exec_driver_sql("SET enable_sort = off")
        rows = await connection.exec_driver_sql(f"EXPLAIN {query.sql}", parameters)
        return "\n".join(row[0] for row in rows)


def assert_served_by_an_index(text: str, dialect: str) -> None:
    if dialect == "sqlite":
        assert "SCAN posts" not in text, text
        assert "TEMP B-TREE" not in text, text
    else:
        assert "Seq Scan on posts" not in text, text
        assert "Sort" not in text, text


PAGES = {
    "home": queries.PAGES[False, False, False, False],
    "api": queries.PAGES[False, False, True, False],
    "home, newer": queries.PAGES[False, False, False, True],
    "a user's": queries.PAGES[True, False, False, False],
    "a user's, api": queries.PAGES[True, False, True, False],
    "a user's, newer": queries.PAGES[True, False, False, True],
    "a tag's": queries.PAGES[False, True, False, False],
    "a tag's, api": queries.PAGES[False, True, True, False],
    "a tag's, newer": queries.PAGES[False, True, False, True],
}


@pytest.mark.parametrize("name", PAGES)
async def test_a_page_by_cursor_is_an_index_range(
    app: FastAPI, resources: Resources, session: AsyncSession, name: str
) -> None:
    await make_posts(session, await make_user(session), 30)
    dialect = resources.database.engine.dialect.name

    text = await plan(resources, PAGES[name])

    assert_served_by_an_index(text, dialect)
    if dialect == "postgresql":  # the cursor bounds the index scan, not a filter after it
        [condition] = [
            line for line in text.splitlines() if "Index Cond" in line and "ROW(" in line
        ]
        assert "published_at" in condition


@pytest.mark.parametrize(
    "statement", [queries.USER_TOTAL, queries.TAG_TOTAL, queries.TOTAL, queries.DRAFTS]
)
async def test_totals_and_drafts_read_no_whole_table(
    resources: Resources, session: AsyncSession, statement: Any
) -> None:
    await make_posts(session, await make_user(session), 30)
    dialect = resources.database.engine.dialect.name

    text = await plan(resources, statement)

    # (The site's eight counter rows, post_counts, are read whole by design.)
    whole = "SCAN" if dialect == "sqlite" else "Seq Scan on"
    for table in ("posts", "user_post_counts", "tag_post_counts"):
        assert f"{whole} {table}" not in text, text


def sqlite_steps(path: str, sql: str, parameters: tuple[Any, ...]) -> int:
    """How many virtual-machine instructions (in hundreds) SQLite runs for the statement."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    with closing(sqlite3.connect(path)) as connection:
        connection.set_progress_handler(count, 100)
        connection.execute(sql, parameters).fetchall()
    return steps


async def test_the_last_page_by_cursor_costs_what_the_first_costs(
    resources: Resources, session: AsyncSession
) -> None:
    posts = await make_posts(session, await make_user(session), 600)
    engine = resources.database.engine
    query = compile_query(queries.PAGES[False, False, True, False], engine.dialect)
    top = {**VALUES, "key_at": NOW, "key_id": 2**63 - 1}
    last = {**VALUES, "key_at": posts[10].published_at, "key_id": posts[10].id}

    if engine.dialect.name == "sqlite":
        path = str(engine.url.database)
        first_cost = sqlite_steps(path, query.sql, query.parameters(top))
        last_cost = sqlite_steps(path, query.sql, query.parameters(last))
        assert last_cost <= 2 * first_cost, (first_cost, last_cost)
        return
    async with engine.connect() as connection:
        # 600 rows are few enough for PostgreSQL to prefer a scan: price it out, as at scale.
        await connection.exec_driver_sql("SET enable_seqscan = off")
        analyzed = await connection.exec_driver_sql(
            f"EXPLAIN (ANALYZE, COSTS OFF) {query.sql}", query.parameters(last)
        )
        text = "\n".join(row[0] for row in analyzed)
    scans = [line for line in text.splitlines() if "Index Scan" in line and "posts" in line]
    assert scans, text
    assert "Rows Removed by Filter" not in text.split("SubPlan")[0], text


async def test_a_post_pages_neighbours_cost_the_same_for_an_old_post(
    resources: Resources, session: AsyncSession
) -> None:
    """The previous and next post and more by the author: walks that start at the post, not
    at now (SQLite ranged `published_at <= now` first and walked every newer post)."""
    author = await make_user(session)
    posts = await make_posts(session, author, 600)
    engine = resources.database.engine
    query = compile_query(related.RELATED, engine.dialect)

    def values(post: Any) -> dict[str, Any]:
        return {"now": NOW, "published_at": post.published_at, "post_id": post.id,
                "user_id": author.id, "more": related.MORE_BY_AUTHOR}  # fmt: skip

    newest = max(posts, key=lambda post: (post.published_at, post.id))
    oldest = min(posts, key=lambda post: (post.published_at, post.id))
    if engine.dialect.name == "sqlite":
        path = str(engine.url.database)
        newest_cost = sqlite_steps(path, query.sql, query.parameters(values(newest)))
        oldest_cost = sqlite_steps(path, query.sql, query.parameters(values(oldest)))
        assert oldest_cost <= 2 * newest_cost + 1, (newest_cost, oldest_cost)
        return
    async with engine.connect() as connection:
        await connection.exec_driver_sql("SET enable_seqscan = off")
        analyzed = await connection.exec_driver_sql(
            f"EXPLAIN (ANALYZE, COSTS OFF) {query.sql}", query.parameters(values(oldest))
        )
        text = "\n".join(row[0] for row in analyzed)
    assert "Seq Scan on posts" not in text, text
