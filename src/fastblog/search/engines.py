"""The two full-text engines behind one interface (the LIKE fallback: fastblog.search.like):
a page of ranked posts for a parsed query, each with its snippet still holding the markers.

Every statement of the full-text engines is a module-level Core statement (the compiled road
of fastblog.db): the user's query is one bound value, written by fastblog.search.query so that
every word in it is quoted. Ranking happens in an inner query that returns only the page's
ids and scores; the snippets and the posts' columns are read for those rows only (a snippet
computed for every match before the LIMIT would cost as much as the search).
"""

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import (
    String,
    bindparam,
    column,
    exists,
    func,
    literal_column,
    select,
    table,
    true,
)
from sqlalchemy.dialects import postgresql  # noqa: F401 (registers func.to_tsquery & co.)
from sqlalchemy.sql.elements import ColumnClause, ColumnElement

from fastblog.accounts.models import User
from fastblog.db import BigId, Database, Row
from fastblog.posts.models import Post, PostTag
from fastblog.posts.queries import BY_USER, FULL_COLUMNS, SUMMARY_COLUMNS, TAG_ID, VISIBLE
from fastblog.search import schema
from fastblog.search.query import SearchQuery, to_fts5, to_tsquery

# Around each matched word in a snippet, until fastblog.search.service.marked makes them <mark>:
# private-use characters (a query cannot hold them) around a secret of this process, so no
# text a writer can type turns into markup.
MARK_START = f"\ue000{secrets.token_hex(8)}\ue001"
MARK_END = f"\ue001{secrets.token_hex(8)}\ue000"
SNIPPET_WORDS = 32
# bm25 weights per FTS5 column: a word in the title counts ten times one in the text; a tag,
# five times.
TITLE_WEIGHT, TEXT_WEIGHT, TAGS_WEIGHT = 10.0, 1.0, 5.0


# The tag filter of a search: a probe of post_tags' primary key for each match. (The lists'
# `post_id IN (the tag's posts)` made SQLite build the whole list first: a third of a million
# posts for a popular tag at a million posts, ~0.3 s, twice per search.)
TAGGED = exists().where(PostTag.post_id == Post.id, PostTag.tag_id == TAG_ID)


@dataclass(frozen=True, slots=True)
class Filters:
    user_id: int | None = None
    tag: str | None = None

    @property
    def key(self) -> tuple[bool, bool]:
        return (self.user_id is not None, self.tag is not None)

    def where(self) -> tuple[Any, ...]:
        by_user, by_tag = self.key
        return (*((BY_USER,) if by_user else ()), *((TAGGED,) if by_tag else ()))

    def values(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "tag": self.tag}


class Engine(Protocol):
    name: str

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
        """Rows of the page's posts (SUMMARY or FULL columns, `snippet`), best first."""
        ...

    async def finds_any(
        self, db: Database, query: SearchQuery, *, filters: Filters, now: datetime
    ) -> bool: ...


NEWEST = (Post.published_at.desc(), Post.id.desc())
_VARIANTS = [(u, t, f) for u in (False, True) for t in (False, True) for f in (False, True)]


def _where(by_user: bool, by_tag: bool) -> tuple[Any, ...]:
    return Filters(1 if by_user else None, "" if by_tag else None).where()


# Ranking costs every match a score (bm25 or ts_rank) and a sort: ~10 us each, so a word in
# 100,000 posts would take a second. A query that matches more than RANKED_MATCHES posts is
# ranked among its newest RANKED_MATCHES matches (those with the highest ids): the cut-off
# id is found by walking the index newest first, which needs no score. Rarer queries (and
# every query on a small blog) are ranked among all their matches.
RANKED_MATCHES = 1_000


def _cutoff(newest_first: Any) -> Any:
    """The id of the RANKED_MATCHES-th newest match (0 if fewer match): computed once per
    statement (not correlated with the rows being ranked)."""
    newest = (
        newest_first.limit(literal_column("1"))
        .offset(literal_column(str(RANKED_MATCHES - 1)))
        .correlate(None)
        .scalar_subquery()
    )
    return func.coalesce(newest, literal_column("0"))


# -- SQLite FTS5 -------------------------------------------------------------------------

_FTS = table(schema.FTS_TABLE, column("rowid", BigId))
_FTS_ROWID = _FTS.c.rowid
# The FTS5 table's hidden column of its own name: what MATCH and its functions take.
_FTS_ITSELF: ColumnClause[Any] = literal_column(schema.FTS_TABLE)
_MATCHES = _FTS_ITSELF.op("MATCH")(bindparam("match", type_=String))
_BM25 = func.bm25(
    _FTS_ITSELF, *(literal_column(repr(w)) for w in (TITLE_WEIGHT, TEXT_WEIGHT, TAGS_WEIGHT))
)
_SNIPPET = func.snippet(
    _FTS_ITSELF,
    literal_column("1"),  # the text column: the title is shown beside it anyway
    bindparam("mark_start", type_=String),
    bindparam("mark_end", type_=String),
    literal_column("'…'"),
    literal_column(str(SNIPPET_WORDS)),
)


def _fts5_page(by_user: bool, by_tag: bool, full: bool) -> Any:
    cutoff = _cutoff(
        select(_FTS_ROWID)
        .select_from(_FTS)
        .join(Post, Post.id == _FTS_ROWID)
        .where(_MATCHES, VISIBLE, *_where(by_user, by_tag))
        .order_by(_FTS_ROWID.desc())  # FTS5 walks its doclists newest first: no score
    )
    ranked = (
        select(Post.id.label("id"), _BM25.label("score"))
        .select_from(_FTS)
        .join(Post, Post.id == _FTS_ROWID)
        .where(_MATCHES, cutoff <= _FTS_ROWID, VISIBLE, *_where(by_user, by_tag))
        .order_by(_BM25, *NEWEST)  # bm25: lower is better
        .limit(bindparam("limit"))
        .offset(bindparam("skip"))
        .subquery("ranked")
    )
    # The snippet, per row of the page: FTS5 finds the one row by its rowid. Joined to the
    # FTS5 table instead, SQLite planned the MATCH as the outer loop (every match, 100,000
    # for a common word at a million posts, probing the page's rows: ~0.5 s).
    snippet = select(_SNIPPET).select_from(_FTS).where(_MATCHES, ranked.c.id == _FTS_ROWID)
    return (
        select(
            *(FULL_COLUMNS if full else SUMMARY_COLUMNS),
            snippet.scalar_subquery().label("snippet"),
        )
        .select_from(ranked)
        .join(Post, Post.id == ranked.c.id)
        .join(User, User.id == Post.user_id)
        .order_by(ranked.c.score, *NEWEST)
    )


def _fts5_any(by_user: bool, by_tag: bool) -> Any:
    return (
        select(Post.id)
        .select_from(_FTS)
        .join(Post, Post.id == _FTS_ROWID)
        .where(_MATCHES, VISIBLE, *_where(by_user, by_tag))
        .limit(1)
    )


FTS5_PAGES = {variant: _fts5_page(*variant) for variant in _VARIANTS}
FTS5_ANY = {variant[:2]: _fts5_any(*variant[:2]) for variant in _VARIANTS}


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
            "match": to_fts5(query),
            "now": now,
            "skip": skip,
            "limit": limit,
            "mark_start": MARK_START,
            "mark_end": MARK_END,
            **filters.values(),
        }
        return await db.fetch(FTS5_PAGES[(*filters.key, full)], values)

    async def finds_any(
        self, db: Database, query: SearchQuery, *, filters: Filters, now: datetime
    ) -> bool:
        values = {"match": to_fts5(query), "now": now, **filters.values()}
        return bool(await db.fetch(FTS5_ANY[filters.key], values))


# -- PostgreSQL full text ----------------------------------------------------------------

_CONFIG: ColumnClause[Any] = literal_column(f"'{schema.TS_CONFIG}'::regconfig")
# The query, parsed once per statement (a one-row subquery joined to every row).
_TSQUERY = select(
    func.to_tsquery(_CONFIG, bindparam("match", type_=String)).label("query")
).subquery("q")
_VECTOR: ColumnClause[Any] = literal_column(f"posts.{schema.VECTOR_COLUMN}")
_PG_MATCHES = _VECTOR.bool_op("@@")(_TSQUERY.c.query)
_TS_RANK = func.ts_rank(_VECTOR, _TSQUERY.c.query)
# ts_headline reads "<b>" or "&amp;" in the text as markup and leaves it out of the snippet;
# stand-ins (private-use characters) keep such text as written, and are swapped back after.
_STAND_INS = {"<": "\ue002", "&": "\ue003"}
_BACK = str.maketrans({stand_in: original for original, stand_in in _STAND_INS.items()})
_SHIELDED_TEXT: ColumnElement[str] = Post.__table__.c.body_text
for _original, _stand_in in _STAND_INS.items():
    _SHIELDED_TEXT = func.replace(
        _SHIELDED_TEXT, literal_column(f"'{_original}'"), literal_column(f"'{_stand_in}'")
    )
_HEADLINE = func.ts_headline(
    _CONFIG, _SHIELDED_TEXT, _TSQUERY.c.query, bindparam("headline_options", type_=String)
)
HEADLINE_OPTIONS = (
    f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords={SNIPPET_WORDS}, MinWords=12, "
    'ShortWord=2, MaxFragments=2, FragmentDelimiter=" … "'
)


# The statements are prepared once and PostgreSQL may plan them once for every query (a
# generic plan). Offered the primary key (id >= cutoff, ORDER BY id), such a plan walks the
# posts newest first testing each with @@: cheap for a word in most posts, a scan of the
# whole table for a word in none. "id + 0" is no index key: the matches always come from
# the GIN index, so the cost follows the number of matches, never the size of the blog.
_ID_NOT_INDEXED = Post.id + literal_column("0")


def _postgres_page(by_user: bool, by_tag: bool, full: bool) -> Any:
    cutoff = _cutoff(
        select(Post.id)
        .join(_TSQUERY, true())
        .where(_PG_MATCHES, VISIBLE, *_where(by_user, by_tag))
        .order_by(_ID_NOT_INDEXED.desc())
    )
    ranked = (
        select(Post.id.label("id"), _TS_RANK.label("score"))
        .select_from(Post)
        .join(_TSQUERY, true())
        .where(_PG_MATCHES, cutoff <= _ID_NOT_INDEXED, VISIBLE, *_where(by_user, by_tag))
        .order_by(_TS_RANK.desc(), *NEWEST)
        .limit(bindparam("limit"))
        .offset(bindparam("skip"))
        .subquery("ranked")
    )
    return (
        select(*(FULL_COLUMNS if full else SUMMARY_COLUMNS), _HEADLINE.label("snippet"))
        .select_from(ranked)
        .join(Post, Post.id == ranked.c.id)
        .join(User, User.id == Post.user_id)
        .join(_TSQUERY, true())
        .order_by(ranked.c.score.desc(), *NEWEST)
    )


def _postgres_any(by_user: bool, by_tag: bool) -> Any:
    return (
        select(Post.id)
        .select_from(Post)
        .join(_TSQUERY, true())
        .where(_PG_MATCHES, VISIBLE, *_where(by_user, by_tag))
        .limit(1)
    )


POSTGRES_PAGES = {variant: _postgres_page(*variant) for variant in _VARIANTS}
POSTGRES_ANY = {variant[:2]: _postgres_any(*variant[:2]) for variant in _VARIANTS}


class PostgresEngine:
    name = "postgresql"

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
            "match": to_tsquery(query),
            "now": now,
            "skip": skip,
            "limit": limit,
            "headline_options": HEADLINE_OPTIONS,
            **filters.values(),
        }
        rows = await db.fetch(POSTGRES_PAGES[(*filters.key, full)], values)
        for row in rows:
            row["snippet"] = (row["snippet"] or "").translate(_BACK)
        return rows

    async def finds_any(
        self, db: Database, query: SearchQuery, *, filters: Filters, now: datetime
    ) -> bool:
        values = {"match": to_tsquery(query), "now": now, **filters.values()}
        return bool(await db.fetch(POSTGRES_ANY[filters.key], values))
