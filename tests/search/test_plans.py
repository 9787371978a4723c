"""Each search statement as the database plans it, as docs/search.md describes it: the window
of newest matches comes from the full-text index (never a scan of posts), on SQLite from the
cut-off on, and on PostgreSQL through both keys of the GIN index (the word and the id bucket)."""

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.db.compiled import compile_query
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
        scans = re.findall(r"SCAN posts_search VIRTUAL TABLE INDEX (\d+):(\S*)", text)
        walks = [index for _, index in scans if index.startswith("M")]
        # The window's walk (newest first, no bound), then the two tiers from the cut-off.
        assert sorted(walks) == ["M3", "M3>", "M3>"], text
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
            "search_vector @@" in line and f"(id / {schema.BUCKET_POSTS}) >=" in line
            for line in conditions
        )
    ), text
    # The two ways to rank (within the window, or all of fewer matches) are decided once.
    assert text.count("One-Time Filter") >= 2, text
