"""Search on SQLite's FTS5 (the ranking: fastblog.search.engines).

Every statement is a module-level Core statement (the compiled road of fastblog.db): the
user's query is a bound value, written by fastblog.search.query so that every word in it is
quoted. One statement per page:

    WITH window AS MATERIALIZED (the ids of the RANKED_MATCHES newest visible matches),
         cutoff (the window's oldest id if it is full, else 0)
    ranked: the window's ids and dates, their tier, the page's rows by tier, then newest
    outer:  the page's posts, authors and snippets

FTS5 keeps each word's matches in rowid order and walks them newest first (ORDER BY rowid
DESC, LIMIT): the window costs its own size, whatever the blog's, and reads no post's row
(an index of what it tests: _POSTS). The tiers are the same query restricted to a column
({title}, {tag_names}), in an FTS5 index of the titles and tags alone: see _in_column.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, bindparam, case, column, func, literal_column, select, table
from sqlalchemy.sql.elements import ColumnClause

from fastblog.accounts.models import User
from fastblog.db import BigId, Database, Row
from fastblog.db.indexed import indexed_by
from fastblog.posts.models import PUBLISHED, Post, PostTag
from fastblog.posts.queries import FULL_COLUMNS, NOW, SUMMARY_COLUMNS, TAG_ID, USER_ID
from fastblog.search import schema
from fastblog.search.engines import (
    MARK_END,
    MARK_START,
    NEWEST,
    RANKED_MATCHES,
    SNIPPET_WORDS,
    TAGS_TIER,
    TITLE_TIER,
    VARIANTS,
    Filters,
)
from fastblog.search.query import SearchQuery, to_fts5

_FTS = table(schema.FTS_TABLE, column("rowid", BigId))
_ROWID = _FTS.c.rowid
# The FTS5 table's hidden column of its own name: what MATCH and its functions take.
_ITSELF: ColumnClause[Any] = literal_column(schema.FTS_TABLE)


def _matches(name: str) -> Any:
    return _ITSELF.op("MATCH")(bindparam(name, type_=String))


_TIERS = table(schema.TIERS_TABLE, column("rowid", BigId))
_TIERS_ROWID = _TIERS.c.rowid


def _tiers_match(name: str) -> Any:
    return literal_column(schema.TIERS_TABLE).op("MATCH")(bindparam(name, type_=String))


_SNIPPET = func.snippet(
    _ITSELF,
    literal_column("1"),  # the text column: the title is shown beside it anyway
    bindparam("mark_start", type_=String),
    bindparam("mark_end", type_=String),
    literal_column("'…'"),
    literal_column(str(SNIPPET_WORDS)),
)


# What the window tests of each match, read from an index keyed by the post's id rather than
# from the post's row (fastblog.search.schema.SQLITE_WINDOW_INDEX): at a million posts a row
# is ~4 KB, the columns tested after the content on overflow pages; the index entry is ~50
# bytes, a thousand of them on a few dozen pages. SQLite's planner would take the row by its
# primary key: INDEXED BY makes it use the index (fastblog.db.indexed).
_POSTS = indexed_by(
    Post.metadata.tables[Post.__tablename__],
    schema.SQLITE_WINDOW_INDEX,
    *schema.SQLITE_WINDOW_COLUMNS,
)
_VISIBLE = and_(_POSTS.c.status == PUBLISHED, _POSTS.c.published_at <= NOW)
_BY_USER = _POSTS.c.user_id == USER_ID


def _visible_matches(by_user: bool, by_tag: bool) -> Any:
    """The visible matches, newest first. The tag filter (fastblog.search.engines.TAGGED) is
    a join with post_tags on the match's id and the tag's: at most one row per match (the
    pair is post_tags' key), probed in the walk of the matches before the index entry is
    read, and cheaper than the same probe as a correlated EXISTS (a subroutine per match:
    2.8 → 2.0 ms for a word and a tag on a third of the posts, at a million posts)."""
    matches = select(_ROWID).select_from(_FTS)
    if by_tag:
        tagged = and_(PostTag.post_id == _ROWID, PostTag.tag_id == TAG_ID)
        matches = matches.join(PostTag, tagged)
    return matches.join(_POSTS, _POSTS.c.id == _ROWID).where(
        _matches("match"), _VISIBLE, *((_BY_USER,) if by_user else ())
    )


def _window(by_user: bool, by_tag: bool) -> Any:
    """The ids of the RANKED_MATCHES newest visible matches, walked once, kept for the rest
    of the statement, with the date the ranking sorts by: read here, from the index entry
    the visibility test reads anyway, so the ranking reads no post's row either. (Joined to
    posts again for its date, it read the window's thousand rows a second time: each a ~4 KB
    row on its own page, a third of the statement at a million posts.)"""
    newest = (
        _visible_matches(by_user, by_tag)
        .with_only_columns(_ROWID.label("id"), _POSTS.c.published_at.label("published_at"))
        .order_by(_ROWID.desc())  # FTS5 walks its doclists newest first: no score
        .limit(literal_column(str(RANKED_MATCHES)))
    )
    return newest.cte("window").prefix_with("MATERIALIZED")


def _cutoff(window: Any) -> Any:
    """The oldest id of a full window (0 when fewer posts match: the window is all of them)."""
    full = func.count() == literal_column(str(RANKED_MATCHES))
    cutoff = select(case((full, func.min(window.c.id)), else_=literal_column("0")).label("id")).cte(
        "cutoff"
    )
    return select(cutoff.c.id).scalar_subquery()


def _in_column(post_id: Any, name: str, cutoff: Any) -> Any:
    """Whether the post matches the query within one column: the column's matches from the
    cut-off on (the window's; all of them when fewer match than the window holds), walked
    once into a set, in the index of the titles and tags alone (schema.TIERS_TABLE: the
    same columns' names, so the same column-filtered query). (A seek per candidate instead
    costs ~6 ms with a column filter; walked in posts_search, a phrase's words' whole lists,
    text and all, are read.)"""
    walked = (
        select(_TIERS_ROWID).select_from(_TIERS).where(_tiers_match(name), cutoff <= _TIERS_ROWID)
    )
    return post_id.in_(walked.correlate(None))


def _page(by_user: bool, by_tag: bool, full: bool) -> Any:
    window = _window(by_user, by_tag)
    cutoff = _cutoff(window)
    tier = (
        case(
            (_in_column(window.c.id, "title_match", cutoff), literal_column(str(TITLE_TIER))),
            else_=literal_column("0"),
        )
        + case(
            (_in_column(window.c.id, "tags_match", cutoff), literal_column(str(TAGS_TIER))),
            else_=literal_column("0"),
        )
    ).label("tier")
    # NEWEST, on the window's own columns.
    newest = (window.c.published_at.desc(), window.c.id.desc())
    ranked = (
        select(window.c.id, tier)
        .order_by(tier.desc(), *newest)
        .limit(bindparam("limit"))
        .offset(bindparam("skip"))
        .subquery("ranked")
    )
    # The snippet, per row of the page: FTS5 finds the one row by its rowid. Joined to the
    # FTS5 table instead, SQLite planned the MATCH as the outer loop (every match, 100,000
    # for a common word at a million posts, probing the page's rows: ~0.5 s).
    snippet = select(_SNIPPET).select_from(_FTS).where(_matches("match"), ranked.c.id == _ROWID)
    return (
        select(
            *(FULL_COLUMNS if full else SUMMARY_COLUMNS),
            snippet.scalar_subquery().label("snippet"),
        )
        .select_from(ranked)
        .join(Post, Post.id == ranked.c.id)
        .join(User, User.id == Post.user_id)
        .order_by(ranked.c.tier.desc(), *NEWEST)
    )


PAGES = {variant: _page(*variant) for variant in VARIANTS}
ANY = {variant[:2]: _visible_matches(*variant[:2]).limit(1) for variant in VARIANTS}


def _matches_values(query: SearchQuery) -> dict[str, str]:
    return {
        "match": to_fts5(query),
        "title_match": to_fts5(query, column="title"),
        "tags_match": to_fts5(query, column="tag_names"),
    }


class FTS5Engine:
    name = "sqlite-fts5"

    async def page(
        self,
        db: Database,
        query: SearchQuery,
        *,
        filters: Filters,
        now: datetime,
        skip: int,
        limit: int,
        full: bool,
    ) -> list[Row]:
        values = {
            **_matches_values(query),
            "now": now,
            "skip": skip,
            "limit": limit,
            "mark_start": MARK_START,
            "mark_end": MARK_END,
            **filters.values(),
        }
        return await db.fetch(PAGES[(*filters.key, full)], values)

    async def finds_any(
        self, db: Database, query: SearchQuery, *, filters: Filters, now: datetime
    ) -> bool:
        values = {"match": to_fts5(query), "now": now, **filters.values()}
        return bool(await db.fetch(ANY[filters.key], values))
