"""Search on PostgreSQL's full text (the ranking: fastblog.search.engines).

Every statement is a module-level Core statement (the compiled road of fastblog.db), the
user's query one bound value for to_tsquery, written by fastblog.search.query so that every
word is a quoted lexeme. One statement per page:

    cutoff: the id of the RANKED_MATCHES-th newest match (0 if fewer), found in the newest
            posts first (see _cutoff)
    ranked: the matches at or above the cutoff, their tier, the page's rows by tier, newest
    outer:  the page's posts, authors and snippets (ts_headline)
"""

from datetime import datetime
from typing import Any

from sqlalchemy import String, bindparam, case, func, literal_column, not_, select, true, union_all
from sqlalchemy.dialects import postgresql  # noqa: F401 (registers func.to_tsquery & co.)
from sqlalchemy.sql.elements import ColumnClause, ColumnElement

from fastblog.accounts.models import User
from fastblog.db import Database, Row
from fastblog.posts.models import Post
from fastblog.posts.queries import FULL_COLUMNS, SUMMARY_COLUMNS, VISIBLE
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
    filters_where,
)
from fastblog.search.query import SearchQuery, to_tsquery

_CONFIG: ColumnClause[Any] = literal_column(f"'{schema.TS_CONFIG}'::regconfig")
# The query, parsed once per statement (a one-row subquery joined to every row).
_TSQUERY = select(
    func.to_tsquery(_CONFIG, bindparam("match", type_=String)).label("query")
).subquery("q")
_VECTOR: ColumnClause[Any] = literal_column(f"posts.{schema.VECTOR_COLUMN}")
_MATCHES = _VECTOR.bool_op("@@")(_TSQUERY.c.query)


def _matches_in(text: Any) -> Any:
    """Whether the query matches within one short column (the title, the tags): its vector
    made on the spot, for the window's few candidates, rather than reading the post's whole
    indexed vector (the text's lexemes, often stored out of line)."""
    return func.to_tsvector(_CONFIG, text).bool_op("@@")(_TSQUERY.c.query)


_TIER = (
    case((_matches_in(Post.title), literal_column(str(TITLE_TIER))), else_=literal_column("0"))
    + case((_matches_in(Post.tag_names), literal_column(str(TAGS_TIER))), else_=literal_column("0"))
).label("tier")

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

# Finding the window (the RANKED_MATCHES-th newest match) is the costly part: the GIN index
# gives a word's matches in no useful order, so a word in 10% of a million posts meant reading
# 100,000 rows (and, past work_mem, every post's vector again) to keep the newest 1,000. The
# index therefore has a second key, the post's id bucket (btree_gin, migration 0021): asking
# for a word in the newest buckets, the index itself intersects the two and only those rows
# are read. The cut-off is sought in the newest buckets first, then in four times as many,
# and so on (COALESCE runs each subquery only when the ones before it found too few); a rare
# word falls through to all its matches, which are few. No step reads a post's vector: a
# plain word is decided by the index alone.
BUCKET_POSTS = schema.BUCKET_POSTS  # the index's second key: id / BUCKET_POSTS
BUCKETS_BACK = (1, 4, 16)
_BUCKET = Post.id.op("/")(literal_column(str(BUCKET_POSTS)))
_NEWEST_BUCKET = (
    select(func.max(Post.id).op("/")(literal_column(str(BUCKET_POSTS))))
    .correlate(None)
    .scalar_subquery()
)
# The statements are prepared once and PostgreSQL may plan them once for every query (a
# generic plan). Offered the primary key (ORDER BY id), such a plan walks the posts newest
# first testing each with @@: a read of every post's vector, and of the whole table for a
# word in none. "id + 0" is no index key: the matches always come from the GIN index.
_ID_NOT_INDEXED = Post.id + literal_column("0")


def _visible_matches(by_user: bool, by_tag: bool) -> Any:
    return (
        select(Post.id)
        .select_from(Post)
        .join(_TSQUERY, true())
        .where(_MATCHES, VISIBLE, *filters_where(by_user, by_tag))
    )


def _cutoff(by_user: bool, by_tag: bool) -> Any:
    """The id of the RANKED_MATCHES-th newest match (0 if fewer match), computed once."""

    def newest(*where: Any) -> Any:
        return (
            _visible_matches(by_user, by_tag)
            .where(*where)
            .order_by(_ID_NOT_INDEXED.desc())
            .limit(literal_column("1"))
            .offset(literal_column(str(RANKED_MATCHES - 1)))
            .correlate(None)
            .scalar_subquery()
        )

    in_buckets = [
        newest(_NEWEST_BUCKET - literal_column(str(back)) <= _BUCKET) for back in BUCKETS_BACK
    ]
    cte = select(func.coalesce(*in_buckets, newest(), literal_column("0")).label("id")).cte(
        "cutoff"
    )
    return select(cte.c.id).scalar_subquery()


def _ranked(by_user: bool, by_tag: bool) -> Any:
    """The page's ids and tiers. Two branches, of which PostgreSQL runs one (a condition on
    the cut-off alone is decided before the branch starts): a cut-off among the newest
    buckets, the matches from its bucket on (the index serves both keys); otherwise (an
    older cut-off, or none: fewer matches than the window), the word's matches, few, from
    the word's key alone. (A bucket bound far back makes the index read every bucket's
    list between: half a million entries for 64 buckets.)"""
    cutoff = _cutoff(by_user, by_tag)
    matches = _visible_matches(by_user, by_tag).with_only_columns(
        Post.id.label("id"), Post.published_at.label("published_at"), _TIER
    )
    cutoff_bucket = cutoff.op("/")(literal_column(str(BUCKET_POSTS)))
    recent = cutoff_bucket >= _NEWEST_BUCKET - literal_column(str(BUCKETS_BACK[-1]))
    window = matches.where(recent, cutoff_bucket <= _BUCKET, cutoff <= _ID_NOT_INDEXED)
    rest = matches.where(not_(recent), cutoff <= _ID_NOT_INDEXED)
    both = union_all(window, rest).subquery("matches")
    return (
        select(both.c.id, both.c.tier)
        .order_by(both.c.tier.desc(), both.c.published_at.desc(), both.c.id.desc())
        .limit(bindparam("limit"))
        .offset(bindparam("skip"))
        .subquery("ranked")
    )


def _page(by_user: bool, by_tag: bool, full: bool) -> Any:
    ranked = _ranked(by_user, by_tag)
    return (
        select(*(FULL_COLUMNS if full else SUMMARY_COLUMNS), _HEADLINE.label("snippet"))
        .select_from(ranked)
        .join(Post, Post.id == ranked.c.id)
        .join(User, User.id == Post.user_id)
        .join(_TSQUERY, true())
        .order_by(ranked.c.tier.desc(), *NEWEST)
    )


PAGES = {variant: _page(*variant) for variant in VARIANTS}
# The page's statement alone plans with sequential scans priced out (its own transaction: SET
# LOCAL): PostgreSQL cannot estimate the newest bucket (a subquery), guesses a third of a
# word's matches there, and at a million posts read a word in half of them by a scan of the
# whole table (5.6-9.5 s; 18-35 ms through the index). Bound as a value instead, the bucket
# is estimated, but a range of the index's second key is then priced as a partial match over
# every entry and the bucket becomes a filter after reading all of the word's matches.
PLANNER = {"enable_seqscan": "off"}
ANY = {variant[:2]: _visible_matches(*variant[:2]).limit(1) for variant in VARIANTS}


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
        rows = await db.fetch(PAGES[(*filters.key, full)], values, planner=PLANNER)
        for row in rows:
            row["snippet"] = (row["snippet"] or "").translate(_BACK)
        return rows

    async def finds_any(
        self, db: Database, query: SearchQuery, *, filters: Filters, now: datetime
    ) -> bool:
        values = {"match": to_tsquery(query), "now": now, **filters.values()}
        return bool(await db.fetch(ANY[filters.key], values))
