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
    # Which window is ranked (the newest buckets', more buckets', all matches') is decided
    # once, before any of them is read.
    assert text.count("One-Time Filter") >= len(postgres.BUCKETS_BACK) + 1, text


# A blog whose newest bucket (id / BUCKET_POSTS) holds a few more posts than the window, all
# of which carry the word searched for, as do half of the many before them.
OLDER_POSTS, NEWEST_POSTS = 5_000, 1_200


def explained(query: Query) -> Query:
    return replace(
        query,
        sql=f"EXPLAIN (ANALYZE, COSTS OFF) {query.sql}",
        column_names=("plan",),
        result_processors=(None,),
    )


# PostgreSQL's planner settings: SQLite has no planner to set.
@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_a_common_word_is_read_from_the_index_in_the_searchs_own_transaction(
    resources: Resources, session: AsyncSession
) -> None:
    """No scan of posts for a word in half of them when the page's statement runs as the
    search runs it (its planner settings, in its own transaction), where the planner left to
    itself plans to read the whole table for the word's matches, as it did at a million posts
    (there the GIN index then serves the window; with a few thousand posts here, an index on
    the dates may, as the test above says); only the newest buckets are read when they hold
    a full window; and the settings end with that transaction."""
    database = resources.database
    author = await make_user(session)
    rows = [*post_rows(author.id, 1, "zucchini"), *post_rows(author.id, 1, "pumpkin")]
    await session.execute(insert(Post), rows)
    await session.commit()
    names = [column.name for column in Post.__table__.columns if column.name not in ("id", "slug")]
    # Published over a few years, in no order of the rows (as a blog's imported posts).
    spread = "published_at - random() * interval '1000 days'"
    copied = [spread if name == "published_at" else name for name in names]
    copies = (
        f"INSERT INTO posts (slug, {', '.join(names)}) "
        f"SELECT slug || '-' || n, {', '.join(copied)} "
        "FROM posts, generate_series(1, {}) AS n WHERE posts.id <= (SELECT min(id) + {} FROM posts)"
    )
    async with database.engine.begin() as connection:
        await connection.exec_driver_sql(copies.format(OLDER_POSTS, 1))  # both words
        # Ids jump ahead: the newest bucket holds the newest posts only.
        await connection.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('posts', 'id'), {100 * schema.BUCKET_POSTS})"
        )
        await connection.exec_driver_sql(copies.format(NEWEST_POSTS, 0))  # the word
        await connection.exec_driver_sql("ANALYZE posts")
    query = explained(database.compiled(postgres.PAGES[False, False, False]))
    parameters = values("postgresql")

    async def plan(**planner: str) -> str:
        rows = await database.runner.fetch(query, parameters, planner=planner)
        return "\n".join(row["plan"] for row in rows)

    def scans(text: str) -> list[str]:
        return [line for line in text.splitlines() if "Seq Scan on posts" in line]

    searched, left_to_itself = await plan(**postgres.PLANNER), await plan()
    show = Query("SHOW enable_seqscan", (), (), ("setting",), (None,), {})
    settings = [(await database.runner.fetch(show, {}))[0]["setting"] for _ in range(3)]

    assert all("never executed" in line for line in scans(searched)), searched
    assert scans(left_to_itself), left_to_itself
    # The newest buckets hold a full window: the wider windows are never sought.
    lines = searched.splitlines()
    ran = {
        line.split("CTE ")[1]: "never executed" not in lines[number + 1]
        for number, line in enumerate(lines)
        if line.strip().startswith("CTE ")
    }
    assert ran == {"newest_1": True, "newest_4": False, "newest_16": False, "newest_all": False}
    assert settings == ["on"] * 3
