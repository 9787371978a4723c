"""Search on PostgreSQL's full text (the ranking: fastblog.search.engines).

Every statement is a module-level Core statement (the compiled road of fastblog.db), the
user's query one bound value for to_tsquery, written by fastblog.search.query so that every
word is a quoted lexeme. One statement per page:

    window:  the RANKED_MATCHES newest matches: those of the newest buckets of posts, then
             of the buckets before them step by step, or of all older posts for a rare word
             (see _windows); each match read at most once
    ranked:  the window's rows' tiers, the page's rows by tier, newest
    outer:   the page's posts, authors and snippets (ts_headline)
"""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    and_,
    any_,
    bindparam,
    case,
    cast,
    column,
    func,
    literal_column,
    not_,
    or_,
    select,
    true,
    union_all,
    values,
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
# for a word in some buckets, the index itself intersects the two and only those rows are
# read. Every match is read at most once (see _windows); no step reads a post's vector for a
# plain word (it is decided by the index alone).
BUCKET_POSTS = schema.BUCKET_POSTS  # the index's second key: id / BUCKET_POSTS
# The head: the newest bucket (partly filled) and the one before it, 8,193-16,384 posts.
HEAD_BUCKETS_BACK = 1
# Fewer matches than this in the head and the bucket before it: the word may be rare, and
# all of its older matches fewer than a walk of the buckets would cost (a word in 17 of the
# head's ~8,800 posts is in ~1,800 of a million posts: read in ~1.5 ms; walked bucket by
# bucket, its ~120 buckets' index entries cost more than its rows). The bucket before the
# head counts too: the head may be the blog's newest posts that just do not use a common
# word (the bench writes 11,000 of them before it searches). And at most OLDER_AT_ONCE older
# matches are read, in the index's order: only when that found them all are they kept (the
# newest sorted out of them); else the buckets are walked. (Read whole and sorted, a common
# word with a tag took 940 ms at a million posts.)
RARE_IN_HEAD = 40
OLDER_AT_ONCE = 5_000
# The bucket just before the head (the "nearer" part, which also says whether a word is rare).
NEARER_BUCKETS_BACK = HEAD_BUCKETS_BACK + 1
# The walk's steps after the nearer bucket, as (nearest, farthest) buckets back from the
# newest: one bucket at a time first (a word in 10% of posts needs one or two more buckets:
# reading two at once read twice what it kept), then twice as many each time, so a word is
# walked in a few index scans however thin it gets, and a step never reads more rows than
# all the steps before it. Together they reach 2^14 buckets back (~134 million posts).
WALK_STEPS = ((3, 3), *((2**k + 2, 2 ** (k + 1) + 1) for k in range(1, 14)))
_BUCKET = Post.id.op("/")(literal_column(str(BUCKET_POSTS)))
_HEAD_BACK: ColumnClause[Any] = literal_column(str(HEAD_BUCKETS_BACK))
_NEARER_BACK: ColumnClause[Any] = literal_column(str(NEARER_BUCKETS_BACK))
_RANKED: ColumnClause[Any] = literal_column(str(RANKED_MATCHES))
_RARE: ColumnClause[Any] = literal_column(str(RARE_IN_HEAD))
_AT_ONCE: ColumnClause[Any] = literal_column(str(OLDER_AT_ONCE))
_NEWEST_BUCKET = (
    select(func.max(Post.id).op("/")(literal_column(str(BUCKET_POSTS))))
    .correlate(None)
    .scalar_subquery()
)


def _bucket_list(nearest: Any, farthest: Any) -> Any:
    """The buckets from `farthest` to `nearest`, as a list for `= ANY`: the index looks up
    each bucket's key and intersects it with the word's. (A range,
    `>= newest - back`, is a partial match to GIN: it gathers every post id of those buckets
    in a bitmap first, 44 ms for 16 buckets against 1 ms for the list, at a million posts.)"""
    bucket = func.generate_series(farthest, nearest).column_valued("bucket")
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
# fewer rows read). The filter itself is the post's own tag names (`posts.tag_names`, kept by
# the triggers on post_tags in the writing transaction; a tag holds no space), read from the
# row already read: a probe of post_tags for each match cost 3 buffers a row. A post may say
# the tag's word in its text: the names decide. A tag of stop words alone adds nothing to
# the index's condition (`q && ''` is q).
_MATCHES_TAGGED = _VECTOR.bool_op("@@")(
    _TSQUERY.c.query.op("&&")(func.plainto_tsquery(_CONFIG, TAG))
)
_TAGGED = any_(func.string_to_array(Post.tag_names, literal_column("' '"))) == TAG


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
        .where(
            _MATCHES_TAGGED if by_tag else _MATCHES,
            _VISIBLE,
            *filters_where(by_user, False),
            *((_TAGGED,) if by_tag else ()),
        )
    )


def _window_rows(by_user: bool, by_tag: bool) -> Any:
    """The matches with what the ranking needs of each, newest first."""
    return (
        _visible_matches(by_user, by_tag)
        .with_only_columns(Post.id, Post.published_at, _TIER_VECTOR.label("tiers"))
        .order_by(_ID_NOT_INDEXED.desc())
    )


def _windows(by_user: bool, by_tag: bool) -> Any:
    """The RANKED_MATCHES newest matches, with what the ranking needs of each, each match
    read at most once:

    - head: the matches in the newest buckets (HEAD_BUCKETS_BACK); a word in more than ~12%
      of posts is done here;
    - nearer: when the head holds fewer than RANKED_MATCHES, the bucket before it
      (NEARER_BUCKETS_BACK);
    - older: when those hold fewer than RARE_IN_HEAD, the matches older than them, at most
      OLDER_AT_ONCE in the index's order (with an author's filter: all of them, decided by
      RANKED_MATCHES); the newest kept when that was all of them;
    - walked: when those hold fewer than RANKED_MATCHES and the older matches were not all
      read at once, the buckets before them in WALK_STEPS, newest first, each step's
      matches read only when the steps before held too few (a lateral join read under a
      LIMIT: the executor stops asking for rows, so the later steps never run).

    Each is a CTE whose conditions (the head's size, the older matches') are decided before
    it starts."""
    rows = _window_rows(by_user, by_tag)
    # An author's filter: PostgreSQL ANDs the author's entries of their posts' index with each
    # index search (the plan is made once for every author), 10-17 ms a search for an author
    # of 66,000 posts at a million: walked, seven such searches. So an author's matches
    # older than the head are read at once, in one such search.
    walks: ColumnClause[Any] = literal_column("false" if by_user else "true")
    rare = _RANKED if by_user else _RARE
    head = (
        rows.where(any_(_bucket_list(_NEWEST_BUCKET, _NEWEST_BUCKET - _HEAD_BACK)) == _BUCKET)
        .limit(_RANKED)
        .cte("head")
        .prefix_with("MATERIALIZED")
    )
    in_head = _size(head, "head_size")
    # The bucket before the head: what says whether the word is rare (the head may be new
    # posts that do not use a common word: a blog's last weeks).
    nearer_bucket = _NEWEST_BUCKET - _NEARER_BACK
    nearer = (
        rows.where(in_head < _RANKED, nearer_bucket == _BUCKET)
        .limit(_RANKED - in_head)
        .cte("nearer")
        .prefix_with("MATERIALIZED")
    )
    in_nearer = in_head + _size(nearer, "nearer_size")
    wanted = _RANKED - in_nearer
    older_starts = nearer_bucket * literal_column(str(BUCKET_POSTS))
    older_rows = rows.where(in_nearer < rare, older_starts > _ID_NOT_INDEXED).order_by(None)
    older = (
        (older_rows if by_user else older_rows.limit(_AT_ONCE))
        .cte("older")
        .prefix_with("MATERIALIZED")
    )
    in_older = _size(older, "older_size")
    newest = select(_NEWEST_BUCKET.label("bucket")).subquery("newest")
    steps = values(
        column("nearest", Integer), column("farthest", Integer), name="steps", literal_binds=True
    ).data(list(WALK_STEPS))
    # The steps come out of the lateral join in the order written (the join is a nested loop
    # over them, tests/search/test_plans.py), and each step's rows newest first: the LIMIT
    # keeps the newest. No ORDER BY over the walk: sorting would read every step first.
    step = rows.where(
        any_(_bucket_list(newest.c.bucket - steps.c.nearest, newest.c.bucket - steps.c.farthest))
        == _BUCKET
    ).lateral("step")
    walked = (
        select(step.c.id, step.c.published_at, step.c.tiers)
        .select_from(newest)
        .join(steps, steps.c.nearest <= newest.c.bucket)
        .join(step, true())
        .where(walks, in_nearer < _RANKED, or_(in_nearer >= rare, in_older >= _AT_ONCE))
        .limit(wanted)
        .cte("walked")
        .prefix_with("MATERIALIZED")
    )
    kept = (
        select(older.c.id, older.c.published_at, older.c.tiers)
        .where(or_(not_(walks), in_older < _AT_ONCE))
        .order_by(older.c.id.desc())
        .limit(wanted)
        .subquery("kept")
    )
    return union_all(select(head), select(nearer), select(walked), select(kept)).subquery("window")


def _size(part: Any, name: str) -> Any:
    """How many rows a part of the window holds, counted once in a CTE of its own: each
    `(SELECT count(*) FROM part)` would be a count of its own (0.08 ms each, five of them
    for the head)."""
    size = select(func.count().label("matches")).select_from(part).cte(name)
    return select(size.c.matches).scalar_subquery()


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
# And a custom plan, for the values given (fastblog.db.compiled keeps generic plans
# otherwise): how many posts hold a word decides how its matches are read.
PLANNER = {"enable_seqscan": "off", "plan_cache_mode": "force_custom_plan"}
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
        return bool(await db.fetch(ANY[filters.key], values, planner=PLANNER))
