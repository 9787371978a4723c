"""The lists' statements as each database plans them: an index serves the order and the cursor's
range (no full scan of posts, no sort of all rows), so a deep page costs what page one costs."""

import re
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import Follow
from fastblog.db.compiled import compile_query
from fastblog.posts import feed, feeds, queries, related
from fastblog.posts.models import Post, PostTag, Tag
from fastblog.resources import Resources
from tests.factories import make_posts, make_user

# Plans depend on the tables' pages: each test starts from new, empty tables.
pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("fresh_tables")]

NOW = datetime(2026, 12, 1, tzinfo=UTC)
VALUES = {
    "now": NOW,
    **queries.scheduled_bounds(NOW),
    "skip": 0,
    "limit": 11,
    "key_at": datetime(2026, 3, 3, 9, 5, tzinfo=UTC),
    "key_id": 3,
    "user_id": 1,
    "tag": "python",
    "viewer_id": 1,
    "at": datetime(2026, 3, 3, 9, 5, tzinfo=UTC),
    "id": 3,
}


async def plan(
    resources: Resources,
    statement: Any,
    *,
    priced_out: bool = True,
    sorts_too: bool = True,
    values: dict[str, Any] | None = None,
) -> str:
    """The plan's text, SQLite's steps indented under the step they belong to. On PostgreSQL
    with sequential scans and sorts priced out (`priced_out`): if the plan still scans or
    sorts, no index can serve the statement. `values`: the statement's own, beside VALUES."""
    engine = resources.database.engine
    query = compile_query(statement, engine.dialect)
    parameters = query.parameters({**VALUES, **(values or {})})
    async with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            rows = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {query.sql}", parameters)
            depth = {0: -1}
            lines = []
            for step, parent, _, detail in rows:
                depth[step] = depth.get(parent, -1) + 1
                lines.append("  " * depth[step] + detail)
            return "\n".join(lines)
        if priced_out:
            await connection.exec_driver_sql("SET enable_seqscan = off")
            if sorts_too:
                await connection.exec_driver_sql("SET enable_sort = off")
        rows = await connection.exec_driver_sql(f"EXPLAIN {query.sql}", parameters)
        return "\n".join(row[0] for row in rows)


def assert_served_by_an_index(text: str, dialect: str) -> None:
    """The page's ids come first, from an index range (no scan of posts, no sort of them),
    then their rows; on SQLite the page's own few rows may be put in order after the LIMIT
    (a sort at the top level, outside the materialized page)."""
    if dialect == "sqlite":
        assert text.startswith("MATERIALIZE"), text  # the ids, before any row is read
        assert "SCAN posts" not in text, text
        sorts = [line for line in text.splitlines() if "TEMP B-TREE" in line]
        assert sorts in ([], ["USE TEMP B-TREE FOR ORDER BY"]), text  # not inside the page
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
    "a user's with a tag": queries.PAGES[True, True, False, False],
    "a user's with a tag, api": queries.PAGES[True, True, True, False],
    "a user's with a tag, newer": queries.PAGES[True, True, False, True],
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


FEEDS = {
    "the site's": feeds.LATEST,
    "a tag's": feeds.LATEST_WITH_TAG,
    "an author's": feeds.LATEST_BY_AUTHOR,
}


@pytest.mark.parametrize("name", FEEDS)
async def test_a_feed_is_an_index_range(
    resources: Resources, session: AsyncSession, name: str
) -> None:
    """The feeds' newest posts: a walk of an index from now, no scan of posts, no sort."""
    await make_posts(session, await make_user(session), 30)
    dialect = resources.database.engine.dialect.name

    text = await plan(resources, FEEDS[name])

    if name != "an author's":
        assert_served_by_an_index(text, dialect)
        return
    # The user's row, the ids from the author's index (a walk of limit entries), their rows;
    # only those few rows are put in order, at the top.
    lines = text.splitlines()
    if dialect == "sqlite":
        assert "SCAN posts" not in text, text
        assert "COVERING INDEX ix_posts_user_id_published_at_id" in text, text
        assert [line for line in lines if "TEMP B-TREE" in line] in ([], [lines[-1]]), text
    else:
        assert "Seq Scan on posts" not in text, text
        assert "Index Only Scan Backward using ix_posts_user_id_published_at_id" in text, text
        assert [line for line in lines if "Sort  (" in line] in ([], [lines[0]]), text


@pytest.mark.parametrize(
    "statement",
    [
        queries.USER_TOTAL,
        queries.TAG_TOTAL,
        queries.USER_TAG_TOTAL,
        queries.TOTAL,
        queries.DRAFTS,
    ],
)
async def test_totals_and_drafts_read_no_whole_table(
    resources: Resources, session: AsyncSession, statement: Any
) -> None:
    await make_posts(session, await make_user(session), 30)
    dialect = resources.database.engine.dialect.name

    text = await plan(resources, statement)

    # (The site's eight counter rows, post_counts, are read whole by design.)
    whole = "SCAN" if dialect == "sqlite" else "Seq Scan on"
    for table in (
        "posts",
        "post_tags",
        "user_post_counts",
        "tag_post_counts",
        "user_tag_post_counts",
    ):
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


STALE_STATEMENTS = {
    **PAGES,
    "a user's with a tag": queries.PAGES[True, True, False, False],
    "a user's with a tag, total": queries.TOTALS[True, True],
    "the site's total": queries.TOTAL,
    "tags, most used first": queries.TAG_COUNTS,
    "tags, most used first (PostgreSQL)": queries.POSTGRES_TAG_COUNTS,
    "the site's feed": feeds.LATEST,
    "a tag's feed": feeds.LATEST_WITH_TAG,
}


@pytest.mark.usefixtures("forget_statistics")
async def test_lists_use_their_indexes_on_statistics_taken_before_the_posts(
    resources: Resources, session: AsyncSession
) -> None:
    """Statistics from when the blog was empty, then 600 posts of a few kilobytes each, as
    right after an import, before autovacuum analyzes them: the planner left to itself (no
    scan priced out) still reads each list's page from its index. (With the page and its
    rows in one SELECT, PostgreSQL hashed the whole of posts, content included, and sorted
    it: a tenth of the list's speed until the next ANALYZE.)"""
    engine = resources.database.engine
    dialect = engine.dialect.name
    async with engine.begin() as connection:
        await connection.exec_driver_sql("ANALYZE")
    author = await make_user(session)
    python = Tag(name="python")
    session.add(python)
    posts = [
        Post(title=f"Post {n}", content=f"Post {n}. " + "A few words of prose. " * 200,
             user_id=author.id, date_posted=datetime(2026, 3, 3, tzinfo=UTC) + timedelta(hours=n))
        for n in range(600)
    ]  # fmt: skip
    session.add_all(posts)
    await session.flush()
    session.add_all(PostTag(post_id=post.id, tag_id=python.id) for post in posts[::3])
    await session.commit()

    for name, statement in STALE_STATEMENTS.items():
        text = await plan(resources, statement, priced_out=False)

        assert ("SCAN posts" if dialect == "sqlite" else "Seq Scan on posts") not in text, name
        if name in PAGES and dialect == "sqlite":
            assert_served_by_an_index(text, dialect)
        elif name in PAGES:  # posts' rows are read by primary key, for the page's ids only
            assert "Index Scan using pk_posts on posts" in text, text
            assert "Hash" not in text, text
            # Told that post_tags is empty, PostgreSQL may sort a tag's index entries (the
            # ids and dates of that tag's posts) rather than walk them in order; posts' rows
            # are never sorted.
            sorted_by = [line for line in text.splitlines() if "Sort Key" in line]
            assert all("post_tags." in line for line in sorted_by), text


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
@pytest.mark.parametrize("after", [False, True], ids=["page one", "after a cursor"])
async def test_the_follow_feed_reads_the_newest_of_each_followed_author(
    resources: Resources, session: AsyncSession, after: bool
) -> None:
    """The reader's feed on PostgreSQL: the newest posts of each followed author from that
    author's index (a walk of `limit` entries each), then the page's rows; never every post
    of the followed authors. With the follows analyzed, the one-statement
    form read all of them and sorted them (4.4 s a page for 20 busy authors of a million
    posts). SQLite runs the one statement (no LATERAL)."""
    reader = await make_user(session, username="reader")
    for n in range(3):
        author = await make_user(session, username=f"author{n}")
        await make_posts(session, author, 20)
        session.add(Follow(follower_id=reader.id, followee_id=author.id))
    await session.commit()
    async with resources.database.engine.begin() as connection:
        await connection.exec_driver_sql("ANALYZE")

    # Scans priced out (posts are few here), sorts not: the page's few rows are put in order.
    text = await plan(resources, feed.POSTGRES_PAGES[after, True], sorts_too=False)

    # Each followed author's posts are a range of their index (from the cursor, if any),
    # cut at `limit` (the LATERAL's Limit, below the page's own), whatever their number.
    lines = [line.strip() for line in text.splitlines()]
    [author_range] = [
        line
        for line in lines
        if line.startswith("Index Cond") and "(user_id = follows.followee_id)" in line
    ]
    assert any("ix_posts_user_id_published_at_id" in line for line in lines), text
    assert ("ROW(published_at, id) <" in author_range) is after, text
    assert len([line for line in lines if line.startswith(("Limit", "->  Limit"))]) == 2, text
    assert "Seq Scan on posts" not in text, text


def step(lines: list[str], heading: str) -> list[str]:
    """SQLite's plan step whose line starts with `heading`, with the steps under it."""
    start = next(n for n, line in enumerate(lines) if line.strip().startswith(heading))
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = next(
        (
            n
            for n in range(start + 1, len(lines))
            if len(lines[n]) - len(lines[n].lstrip()) <= indent
        ),
        len(lines),
    )
    return lines[start:end]


def tag_counts(resources: Resources) -> Any:
    """GET /api/tags' statement on this database (fastblog.posts.queries.fetch_tag_counts)."""
    if resources.database.engine.dialect.name == "postgresql":
        return queries.POSTGRES_TAG_COUNTS
    return queries.TAG_COUNTS


async def test_each_tags_count_is_worked_out_once(resources: Resources) -> None:
    """GET /api/tags ranks tags by their count and leaves out those at zero: the count of
    each tag (its counter rows, less its scheduled posts) is computed once, not once for the
    filter and again for the column. Each tag's scheduled posts are a range of post_tags'
    index; its counter rows are a probe of their primary key on SQLite, and on PostgreSQL
    (where a probe reads the rows from the heap) one pass over the table for all tags,
    outside the per-tag subquery."""
    text = await plan(resources, tag_counts(resources), priced_out=False)

    lines = text.splitlines()
    if resources.database.engine.dialect.name == "sqlite":
        counted = step(lines, "MATERIALIZE counted")
        subqueries = [line for line in counted if "SCALAR SUBQUERY" in line]
        assert len(subqueries) == 2, text  # the counter rows' sum, the scheduled posts' count
        assert "SEARCH tag_post_counts USING INDEX" in text, text
        assert "SEARCH post_tags USING COVERING INDEX ix_post_tags_tag_id_published_at" in text
        return
    per_tag = next(n for n, line in enumerate(lines) if "SubPlan" in line)
    subqueries = [line for line in lines if "SubPlan" in line]
    assert len(subqueries) == 1, text  # the scheduled posts' count
    assert "ix_post_tags_tag_id_published_at_post_id" in "\n".join(lines[per_tag:]), text
    # The counters, once: before the per-tag subquery, never inside it.
    assert "tag_post_counts" in "\n".join(lines[:per_tag]), text
    assert "tag_post_counts" not in "\n".join(lines[per_tag:]), text


async def test_the_tag_lists_version_and_next_time_cost_a_few_rows(resources: Resources) -> None:
    """What GET /api/tags' statement reads beside the list, for the process that keeps it
    (fastblog.posts.tag_list_cache): the eight rows of tag_count_versions, and the next
    scheduled post with a tag as the first entry of posts' published_at index past now (its
    tags probed by post_tags' primary key), not a scan of posts or of post_tags. (On
    PostgreSQL with scans and sorts priced out: the test's few rows would let it pick any.)"""
    text = await plan(resources, tag_counts(resources))

    assert "tag_count_versions" in text, text
    if resources.database.engine.dialect.name == "sqlite":
        assert "SEARCH posts USING COVERING INDEX ix_posts_published_at_id (published_at>?)" in text
        assert "SEARCH post_tags USING INDEX sqlite_autoindex_post_tags_1 (post_id=?)" in text
        assert not re.search(r"SCAN (posts|post_tags)\b", text), text
        return
    assert "Index Only Scan using ix_posts_published_at_id on posts" in text, text
    assert "pk_post_tags" in text, text  # (an Index Only or a Bitmap Index Scan)
    assert not re.search(r"Seq Scan on (posts|post_tags)\b", text), text
