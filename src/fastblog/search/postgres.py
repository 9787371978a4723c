"""Search on PostgreSQL's full text (the ranking: fastblog.search.engines).

Every statement is a module-level Core statement (the compiled road of fastblog.db), the
user's query one bound value for to_tsquery, written by fastblog.search.query so that every
word is a quoted lexeme. One statement per page:

    windows: the RANKED_MATCHES newest matches among the newest buckets of posts, then among
             more of them, then among all (see _windows); each is read only when the ones
             before it held fewer than RANKED_MATCHES
    ranked:  the first full window (or the last), its rows' tiers, the page's rows by tier,
             newest
    outer:   the page's posts, authors and snippets (ts_headline)
"""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    String,
    and_,
    any_,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.elements import ColumnClause, ColumnElement

from fastblog.accounts.models import User
from fastblog.db import Database, Row
from fastblog.posts.models import PUBLISHED, Post
from fastblog.posts.queries import FULL_COLUMNS, NOW, SUMMARY_COLUMNS, TAG
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
# The query, a one-row subquery joined to every row. PostgreSQL pulls it up into the
# statement: planned for this query's value, to_tsquery(…) is a constant; planned once for
# every query (a generic plan), an expression evaluated where it is used, which is once per
# index scan in the GIN index's condition, but once per row elsewhere.
_TSQUERY = select(
    func.to_tsquery(_CONFIG, bindparam("match", type_=String)).label("query")
).subquery("q")
# The query parsed once per statement (an InitPlan), for what is tested on every row of the
# window: the tiers (a generic plan parsed it twice per row, 15 of a 45 ms search).
_PARSED_ONCE = select(_TSQUERY.c.query).scalar_subquery()
_VECTOR: ColumnClause[Any] = literal_column(f"posts.{schema.VECTOR_COLUMN}")
_MATCHES = _VECTOR.bool_op("@@")(_TSQUERY.c.query)


_TIER_VECTOR: ColumnClause[Any] = literal_column(f"posts.{schema.TIER_VECTOR_COLUMN}")


def _matches_in(tiers: Any, weight: str) -> Any:
    """Whether the whole query matches within the title (weight a) or the tags (b) alone:
    the stored vector of those two (a few words, kept in the row), cut to that weight. Made
    on the spot from the text, the two vectors cost ~30 µs a post; read from the post's
    indexed vector, its text's lexemes too (stored out of line): as much."""
    part = func.ts_filter(tiers, literal_column(f"'{{{weight}}}'"))
    return part.bool_op("@@")(_PARSED_ONCE)


def _tier(tiers: Any) -> Any:
    return case(
        (_matches_in(tiers, "a"), literal_column(str(TITLE_TIER))), else_=literal_column("0")
    ) + case((_matches_in(tiers, "b"), literal_column(str(TAGS_TIER))), else_=literal_column("0"))


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

# Finding the window (the RANKED_MATCHES newest matches) is the costly part: the GIN index
# gives a word's matches in no useful order, so a word in 10% of a million posts meant reading
# 100,000 rows (and, past work_mem, every post's vector again) to keep the newest 1,000. The
# index therefore has a second key, the post's id bucket (btree_gin, migration 0021): asking
# for a word in the newest buckets, the index itself intersects the two and only those rows
# are read. The window is sought in the newest buckets first, then in four times as many,
# and so on; a rare word falls through to all its matches, which are few. No step reads a
# post's vector: a plain word is decided by the index alone.
BUCKET_POSTS = schema.BUCKET_POSTS  # the index's second key: id / BUCKET_POSTS
BUCKETS_BACK = (1, 4, 16)
_BUCKET = Post.id.op("/")(literal_column(str(BUCKET_POSTS)))
_NEWEST_BUCKET = (
    select(func.max(Post.id).op("/")(literal_column(str(BUCKET_POSTS))))
    .correlate(None)
    .scalar_subquery()
)


def _buckets(back: int) -> Any:
    """The newest bucket and the `back` before it, as a list for `= ANY`: the index looks up
    each bucket's key and intersects it with the word's. (A range, `>= newest - back`, is a
    partial match to GIN: it gathers every post id of those buckets in a bitmap first, 44 ms
    for 16 buckets against 1 ms for the list, at a million posts.)"""
    bucket = func.generate_series(
        _NEWEST_BUCKET - literal_column(str(back)), _NEWEST_BUCKET
    ).column_valued("bucket")
    # The cast makes the subquery one array value (`= ANY (subquery)` would compare rows).
    # (`any_(array) == x` is how SQLAlchemy writes `x = ANY (array)`.)
    return cast(select(func.array_agg(bucket)).scalar_subquery(), postgresql.ARRAY(BigInteger))


# The statements are prepared once and PostgreSQL may plan them once for every query (a
# generic plan). Offered the primary key (ORDER BY id), such a plan walks the posts newest
# first testing each with @@: a read of every post's vector, and of the whole table for a
# word in none. "id + 0" is no index key: the matches always come from the GIN index.
_ID_NOT_INDEXED = Post.id + literal_column("0")


# With a tag's filter, the index is asked for the query AND the tag's words: a tagged post
# holds them (its tags are in its vector), so no tagged match is lost, and the rows read are
# those with both, not every match of the word (python is a third of the posts: three times
# fewer rows read and probed). The filter itself (post_tags) still decides: a post may say
# the tag's word in its text. A tag of stop words alone adds nothing (`q && ''` is q).
_MATCHES_TAGGED = _VECTOR.bool_op("@@")(
    _TSQUERY.c.query.op("&&")(func.plainto_tsquery(_CONFIG, TAG))
)


# Visibility is tested on the rows the GIN index gives, never through the dates' index:
# planned once for every query (a generic plan), `published_at <= now` is a guess (a third
# of the posts), and PostgreSQL ANDed the dates' index (every post's entry) with a rare
# word's matches: 300 ms of a 380 ms search at a million posts. "+ interval '0'" is no
# index key, as "id + 0" above.
_VISIBLE = and_(Post.status == PUBLISHED, Post.published_at + literal_column("interval '0'") <= NOW)


def _visible_matches(by_user: bool, by_tag: bool) -> Any:
    return (
        select(Post.id)
        .select_from(Post)
        .join(_TSQUERY, true())
        .where(_MATCHES_TAGGED if by_tag else _MATCHES, _VISIBLE, *filters_where(by_user, by_tag))
    )


def _windows(by_user: bool, by_tag: bool) -> Any:
    """The RANKED_MATCHES newest matches, with what the ranking needs of each: from the
    newest buckets if they hold that many, else from more, else among all matches. Each
    window is a CTE that PostgreSQL runs only when a branch below reads it, and a branch's
    condition (on the windows' sizes alone) is decided before it starts: the windows before
    the first full one run, no other. Every match is read once; its tier is computed for
    the window's rows only."""
    found = [
        _visible_matches(by_user, by_tag)
        .with_only_columns(Post.id, Post.published_at, _TIER_VECTOR.label("tiers"))
        .where(*(() if back is None else (any_(_buckets(back)) == _BUCKET,)))
        .order_by(_ID_NOT_INDEXED.desc())
        .limit(literal_column(str(RANKED_MATCHES)))
        .cte(f"newest_{back or 'all'}")
        .prefix_with("MATERIALIZED")
        for back in (*BUCKETS_BACK, None)
    ]
    full = [
        select(func.count()).select_from(window).scalar_subquery()
        == literal_column(str(RANKED_MATCHES))
        for window in found
    ]
    branches = [
        select(window).where(*(~earlier for earlier in full[:step]), *full[step : step + 1])
        for step, window in enumerate(found[:-1])
    ]
    last = select(found[-1]).where(*(~earlier for earlier in full[:-1]))
    return union_all(*branches, last).subquery("window")


def _ranked(by_user: bool, by_tag: bool) -> Any:
    """The page's ids and tiers."""
    window = _windows(by_user, by_tag)
    tier = _tier(window.c.tiers).label("tier")
    return (
        select(window.c.id, tier)
        .join(_TSQUERY, true())
        .order_by(tier.desc(), window.c.published_at.desc(), window.c.id.desc())
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
