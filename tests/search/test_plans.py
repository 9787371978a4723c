"""Each search statement as the database plans it, as docs/search.md describes it: the window
of newest matches comes from the full-text index (never a scan of posts), on SQLite from the
cut-off on, and on PostgreSQL through both keys of the GIN index (the word and the id bucket)."""

import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.db.compiled import Query, compile_query
from fastblog.posts.models import Post
from fastblog.resources import Resources
from fastblog.search import fts5, postgres, schema
from fastblog.search.engines import VARIANTS
from fastblog.search.query import parse, to_fts5, to_tsquery
from tests.factories import make_user
from tests.search.helpers import post_rows

# Plans depend on the tables' pages: each test starts from new, empty tables.
pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("fresh_tables")]

QUERY = parse("zucchini")


def values(dialect: str) -> dict[str, Any]:
    common = {"now": datetime.now(UTC), "skip": 0, "limit": 11, "user_id": 1, "tag": "python"}
    common["viewer_id"] = None
    if dialect == "sqlite":
        return {
            **common,
            "match": to_fts5(QUERY),
            "title_match": to_fts5(QUERY, column="title"),
            "tags_match": to_fts5(QUERY, column="tag_names"),
            "mark_start": "[",
            "mark_end": "]",
        }
    return {**common, "match": to_tsquery(QUERY), "headline_options": postgres.HEADLINE_OPTIONS}


async def plan(resources: Resources, statement: Any) -> str:
    engine = resources.database.engine
    dialect = engine.dialect.name
    query = compile_query(statement, engine.dialect)
    parameters = query.parameters(values(dialect))
    async with engine.connect() as connection:
        if dialect == "sqlite":
            rows = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {query.sql}", parameters)
            return "\n".join(row[3] for row in rows)
        # A few posts are cheaper to scan: price scans out, as a million posts would, and
        # give the planner the statistics it has on any real blog (all posts visible).
        await connection.exec_driver_sql("ANALYZE posts")
        await connection.exec_driver_sql("SET enable_seqscan = off")
        rows = await connection.exec_driver_sql(f"EXPLAIN {query.sql}", parameters)
        return "\n".join(row[0] for row in rows)


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: "-".join(map(str, v)))
async def test_a_page_of_results_reads_the_window_from_the_index(
    resources: Resources, session: AsyncSession, variant: tuple[bool, bool, bool]
) -> None:
    author = await make_user(session)
    # A word in a few posts of many, as on a real blog (with a few posts in all, PostgreSQL
    # rightly prefers to read them all by date).
    rows = [*post_rows(author.id, 3, "zucchini"), *post_rows(author.id, 400, "pumpkin")]
    await session.execute(insert(Post), rows)
    await session.commit()
    dialect = resources.database.engine.dialect.name
    statement = (fts5.PAGES if dialect == "sqlite" else postgres.PAGES)[variant]

    text = await plan(resources, statement)

    if dialect == "sqlite":
        assert not re.search(r"SCAN posts\b(?!_search)", text), text
        assert "MATERIALIZE window" in text, text  # the newest matches, walked once
        # FTS5's index string: M for MATCH, ">" for a rowid lower bound, "=" for one rowid.
        scans = re.findall(r"SCAN (posts_search|posts_tiers) VIRTUAL TABLE INDEX \d+:(\S*)", text)
        walks = sorted((table, index) for table, index in scans if index.startswith("M"))
        # The window's walk in the whole index (newest first, no bound), then the two tiers
        # from the cut-off in the index of titles and tags alone (its 2 columns).
        tiers = ("posts_tiers", "M2>")
        assert walks == [("posts_search", "M3"), tiers, tiers], text
        # The window's matches are tested (visibility, author) and dated from the index
        # keyed by their id, never from posts' rows; those are read for the page's rows only.
        window = text.partition("SCAN window")[0]
        index = f"SEARCH posts USING COVERING INDEX {schema.SQLITE_WINDOW_INDEX} (id=?"
        assert index in window, text
        assert "SEARCH posts USING INTEGER PRIMARY KEY" not in window, text
        assert text.count("SEARCH posts USING INTEGER PRIMARY KEY") == 1, text
        if variant[1]:  # the tag probed in the walk of the matches, before the index entry
            assert "SEARCH post_tags" in window.split(index)[0], text
        return
    assert "Seq Scan on posts" not in text, text
    conditions = [line for line in text.splitlines() if "Index Cond" in line]
    # The window's matches come from the GIN index's two keys: the word and the id bucket.
    # (At a million posts the cut-off's searches in the newest buckets do too; with a few
    # hundred posts here, PostgreSQL may rightly read those by date instead.)
    # With a user's or a tag's filter, a few hundred posts are read as cheaply through those.
    by_user, by_tag, _ = variant
    assert (
        by_user
        or by_tag
        or any(
            "search_vector @@" in line and f"(id / {schema.BUCKET_POSTS}) = ANY" in line
            for line in conditions
        )
    ), text
    # The tag's filter is the post's own tag names, not a probe of post_tags for each match.
    assert "post_tags" not in text, text
    # Whether the older matches are sought is decided once, from the head's size, before.
    assert "One-Time Filter" in text, text
    # The walk: the steps, newest first, each a search of the index for its buckets (with
    # an author's filter, the older matches are read at once: no walk is planned).
    walk = re.search(r"Nested Loop[\s\S]*Values Scan[\s\S]*Bitmap Heap Scan", text)
    assert bool(walk) is not by_user, text


def explained(query: Query) -> Query:
    return replace(
        query,
        sql=f"EXPLAIN (ANALYZE, COSTS OFF) {query.sql}",
        column_names=("plan",),
        result_processors=(None,),
    )


async def spread(resources: Resources, session: AsyncSession, buckets: dict[int, int]) -> None:
    """Posts saying "zucchini" in the given buckets (bucket: how many), the newest bucket last,
    and before them all, many saying "zucchini" or "pumpkin" (the word is in half of the
    blog's posts); published over a few years, in no order of the rows (as a blog's imported
    posts)."""
    author = await make_user(session)
    db = resources.database
    rows = [*post_rows(author.id, 1, "zucchini"), *post_rows(author.id, 1, "pumpkin")]
    await session.execute(insert(Post), rows)
    await session.commit()
    names = [column.name for column in Post.__table__.columns if column.name not in ("id", "slug")]
    spread = "published_at - random() * interval '1000 days'"
    copied = [spread if name == "published_at" else name for name in names]
    copies = (
        f"INSERT INTO posts (slug, {', '.join(names)}) "
        f"SELECT slug || '-' || n, {', '.join(copied)} "
        "FROM posts, generate_series(1, {}) AS n WHERE posts.id <= (SELECT min(id) + {} FROM posts)"
    )
    async with db.engine.begin() as connection:
        await connection.exec_driver_sql(copies.format(OLDER_POSTS, 1))  # both, bucket 0
        for bucket, count in sorted(buckets.items()):
            await connection.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('posts', 'id'), "
                f"{bucket * schema.BUCKET_POSTS})"
            )
            await connection.exec_driver_sql(copies.format(count, 0))  # zucchini
        await connection.exec_driver_sql("ANALYZE posts")


async def searched(resources: Resources, **planner: str) -> str:
    query = explained(resources.database.compiled(postgres.PAGES[False, False, False]))
    rows = await resources.database.runner.fetch(query, values("postgresql"), planner=planner)
    return "\n".join(row["plan"] for row in rows)


def sections(text: str) -> dict[str, str]:
    """The plan of each part of the window (a CTE), by name."""
    parts = re.split(r"^\s*CTE (\w+)$", text, flags=re.MULTILINE)
    named = dict(zip(parts[1::2], parts[2::2], strict=True))
    sizes = ("head_size", "nearer_size", "older_size")
    return {name: plan for name, plan in named.items() if name not in sizes}


def ran(text: str) -> dict[str, bool]:
    """Which of the window's parts read posts (their conditions are decided first: a part
    that does not run shows its scans as never executed)."""
    return {
        name: any(
            "Bitmap Heap Scan" in line and "never executed" not in line
            for line in plan.splitlines()
        )
        for name, plan in sections(text).items()
    }


def steps_read(text: str) -> int:
    """How many of the walk's steps searched the index."""
    walk = sections(text)["walked"]
    found = re.search(r"Bitmap Heap Scan on posts \S+ \(actual [^)]* loops=(\d+)\)", walk)
    return int(found.group(1)) if found else 0


OLDER_POSTS = 5_000


# PostgreSQL's planner settings: SQLite has no planner to set.
@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_a_common_word_is_read_from_the_index_in_the_searchs_own_transaction(
    resources: Resources, session: AsyncSession
) -> None:
    """For a word in half of the posts, no scan of posts when the page's statement runs as
    the search runs it (its planner settings, in its own transaction: at a million posts,
    left to itself, the planner plans the older matches of a frequent word as a scan of the
    whole table); only the newest buckets are read when they hold a full window; and the
    settings end with that transaction."""
    await spread(resources, session, {100: 1_200})
    database = resources.database

    def scans(text: str) -> list[str]:
        return [line for line in text.splitlines() if "Seq Scan on posts" in line]

    searched_so = await searched(resources, **postgres.PLANNER)
    show = Query("SHOW enable_seqscan", (), (), ("setting",), (None,), {})
    settings = [(await database.runner.fetch(show, {}))[0]["setting"] for _ in range(3)]

    assert all("never executed" in line for line in scans(searched_so)), searched_so
    # The newest buckets hold a full window: nothing older is sought.
    assert ran(searched_so) == {"head": True, "nearer": False, "walked": False, "older": False}
    assert settings == ["on"] * 3


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_a_thinner_word_is_sought_bucket_by_bucket_until_the_window_is_full(
    resources: Resources, session: AsyncSession
) -> None:
    """100 matches in the newest two buckets, none in the one before (read: the walk's first
    step), 500 three back, 600 ten back: the walk reads the steps (3), (4-5), (6-9),
    (10-17) and stops there, with a full window; the older matches are never read."""
    await spread(resources, session, {20: 600, 27: 500, 30: 100})

    text = await searched(resources, **postgres.PLANNER)

    assert ran(text) == {"head": True, "nearer": True, "walked": True, "older": False}, text
    assert steps_read(text) == 4, text


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_a_word_the_newest_posts_hardly_use_is_walked_not_read_whole(
    resources: Resources, session: AsyncSession
) -> None:
    """A few matches in the newest buckets and thousands older (a word the blog used more
    years ago): OLDER_AT_ONCE of the older matches are read, which is not all of them, so
    the buckets are walked until the window is full, and nothing is sorted out of all of
    them (a common word so searched, with a tag, took 940 ms at a million posts)."""
    await spread(resources, session, {3: 300, 30: postgres.RARE_IN_HEAD - 1})

    text = await searched(resources, **postgres.PLANNER)

    assert ran(text) == {"head": True, "nearer": True, "older": True, "walked": True}, text
    assert steps_read(text) >= 1, text
    older = sections(text)["older"]
    assert f"rows={postgres.OLDER_AT_ONCE} " in older, older
