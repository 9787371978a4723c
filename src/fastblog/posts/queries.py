"""The posts' one-statement queries (the compiled road of fastblog.db): what every page view
and every new post without tags runs.

Rows come back as dicts shaped like `PostPublic` (author nested, tags a list), which the API
writes to JSON as its response models would (fastblog.posts.responses) and the templates read
directly.

What a reader sees is a read-time filter, `status = 'published' AND published_at <= :now`:
a scheduled post appears on time with no job running. Drafts have no published_at, so the
index on (published_at, id) serves every list newest first.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    Select,
    and_,
    bindparam,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.orm import aliased

from fastblog.accounts.models import User
from fastblog.db import ConstraintViolationError, Database, Row
from fastblog.exceptions import NotFoundError
from fastblog.pagination import MAX_CURSOR_ID, Keyset
from fastblog.posts.models import (
    DRAFT,
    PUBLISHED,
    REVIEW,
    Post,
    PostCount,
    PostLike,
    PostTag,
    ScheduledPostCount,
    ScheduledTagPostCount,
    Tag,
    TagCountVersion,
    TagPostCount,
    UserPostCount,
    UserTagPostCount,
)

END_OF_TIME = datetime.max.replace(tzinfo=UTC)  # after every draft's updated_at
NOW = bindparam("now", type_=Post.published_at.type)
# The upper bound of a range that has none of its own (see _scheduled), as a value the
# statement carries.
NEVER = bindparam("never", END_OF_TIME, type_=Post.published_at.type)
# The day of now (UTC) and the start of the next: where the day counters of scheduled posts
# take over from an index range (see SCHEDULED); fetch_page binds them from its `now`.
TODAY = bindparam("today", type_=ScheduledPostCount.day.type)
TOMORROW = bindparam("tomorrow", type_=Post.published_at.type)
VISIBLE = and_(Post.status == PUBLISHED, Post.published_at <= NOW)
USER_ID = bindparam("user_id", type_=Post.user_id.type)
TAG = bindparam("tag", type_=Tag.name.type)
BY_USER = Post.user_id == USER_ID
TAG_ID = select(Tag.id).where(Tag.name == TAG).scalar_subquery()
# Where a page starts: the sort key of the row shown last (fastblog.pagination.Keyset).
KEY_AT = bindparam("key_at", type_=Post.published_at.type)
KEY_ID = bindparam("key_id", type_=Post.id.type)

# A post's tags, space-separated (a tag holds no space): posts.tag_names, kept by triggers on
# post_tags for search (migration 0009) in the transaction that tags or untags, so a row of a
# list carries its tags without a subquery per row.
TAGS = Post.tag_names.label("tags")

# Whether the reader (`viewer_id`; None for anyone anonymous, which matches nothing) likes
# the post: a probe of post_likes' primary key per row, in the same statement as the page.
LIKED = (
    exists()
    .where(
        PostLike.post_id == Post.id,
        PostLike.user_id == bindparam("viewer_id", None, type_=PostLike.user_id.type),
    )
    .label("liked")
)

SUMMARY_COLUMNS = (
    Post.id,
    Post.title,
    Post.slug,
    Post.excerpt,
    Post.status,
    Post.submitted_at,  # a draft with it is "in review" (fastblog.posts.models.REVIEW)
    Post.published_at,
    Post.updated_at,
    Post.user_id,
    Post.date_posted,
    User.username.label("author_username"),
    User.image_file.label("author_image_file"),
    Post.comments,  # kept by triggers (fastblog.comments.models): no counting on reads
    TAGS,
    Post.like_count.label("likes"),
    LIKED,
    Post.comments_enabled,
    Post.feature_image,
    Post.feature_image_alt,
    Post.picture,
)
# Pages show lists as excerpts; the API's posts carry the source and the HTML too.
FULL_COLUMNS = (*SUMMARY_COLUMNS, Post.content, Post.content_html)
# A list's author columns as a probe of users' primary key per row, in place of a join: with
# users in the FROM, PostgreSQL on stale statistics joined users to all of their posts (rows,
# content and all) and hashed that against the page's ids; with posts alone beside the
# page's ids, it has a page (at most `limit` rows) to look up by primary key.
_AUTHOR = aliased(User, name="author")
_AUTHOR_PROBES = {
    "author_username": _AUTHOR.username,
    "author_image_file": _AUTHOR.image_file,
}
LIST_COLUMNS = {
    full: tuple(
        select(_AUTHOR_PROBES[column.key])
        .where(_AUTHOR.id == Post.user_id)
        .scalar_subquery()
        .label(column.key)
        if column.key in _AUTHOR_PROBES
        else column
        for column in (FULL_COLUMNS if full else SUMMARY_COLUMNS)
    )
    for full in (False, True)
}
NEWEST_FIRST = (Post.published_at.desc(), Post.id.desc())


def _posts(columns: tuple[Any, ...], *extra: Any) -> Any:  # pragma: no mutate block
    return select(*columns, *extra).join(User, User.id == Post.user_id)


def _page(
    columns: tuple[Any, ...], total: Any, *where: Any, newer: bool = False, tagged: bool = False
) -> Any:  # pragma: no mutate block
    # Two steps: the page's ids by an index, then their rows. The inner SELECT reads only the
    # sort key, which the index holds, newest first from the cursor: a LIMIT in a subquery
    # cannot be flattened into the join, so however stale the planner's statistics (right
    # after a bulk load, before ANALYZE) the statement cannot become a scan of posts, content
    # and all, hashed and sorted; the outer SELECT then fetches limit + 1 rows by primary key.
    #
    # Keyset pagination: the rows strictly past the key of the last row shown, as one
    # row-value comparison that an index on (published_at, id) serves as a range, so a page
    # deep in the list costs what page one costs: posts' own indexes, or for a tag's page
    # (`tagged`) post_tags' copy of published_at, and for a user's posts with a tag
    # (`tagged`, with BY_USER_TAGGED in `where`) post_tags' copies of the author and
    # published_at. A draft has no published_at (the check constraint status_published_at),
    # so a row past the key is a published post: no need to read its row for its status. The
    # key is never later than now (fetch_page clamps it), so it is also the only upper bound:
    # SQLite ranges an index on one upper bound, the first it meets, and `published_at <= now`
    # there would make a deep page walk every row from now down to its key. `newer` reads the
    # other way (the page before a key, for "Newer posts"), oldest first, up to now; the
    # caller turns it round.
    # The total rides along as an uncorrelated scalar subquery: evaluated once per statement,
    # so a page and its count cost one round trip instead of two.
    at, row_id = (PostTag.published_at, PostTag.post_id) if tagged else (Post.published_at, Post.id)
    key, cursor = tuple_(at, row_id), tuple_(KEY_AT, KEY_ID)
    keyset = (key > cursor, at <= NOW) if newer else (key < cursor,)
    order = (at.asc(), row_id.asc()) if newer else (at.desc(), row_id.desc())
    ids = select(at.label("at"), row_id.label("id")).where(*keyset)
    ids = ids.where(PostTag.tag_id == TAG_ID, *where) if tagged else ids.where(*where)
    page = ids.order_by(*order).limit(bindparam("limit")).offset(bindparam("skip")).subquery()
    return (
        select(*columns, total.scalar_subquery().label("total"))
        .select_from(page)
        .join(Post, Post.id == page.c.id)
        .order_by(
            *((page.c.at.asc(), page.c.id.asc()) if newer else (page.c.at.desc(), page.c.id.desc()))
        )
    )


def _count(*where: Any) -> Any:  # pragma: no mutate block
    return select(func.count().label("total")).select_from(Post).where(*where)


def _scheduled(*where: Any) -> Any:  # pragma: no mutate block
    """Published posts whose time has not come: an index range on published_at > now (a
    user's lists, whose scheduled posts are few; the site's and a tag's read _ahead). Only
    published posts have a published_at (the status_published_at check constraint), so
    the index alone answers: no row is read. (With `status = 'published'` too, every
    scheduled post's row was read: ~3,000 at a million posts, 17-28 ms on every list.)
    Bounded on both sides: without statistics (a table grown since its last ANALYZE)
    PostgreSQL guesses a third of the rows for a one-sided range, and counted them by a scan
    of posts on every list; a two-sided range it guesses at 0.5%, which the index serves."""
    return _count(Post.published_at > NOW, Post.published_at < NEVER, *where).scalar_subquery()


def _counted(counter: Any, *where: Any, scheduled: Any) -> Any:  # pragma: no mutate block
    """A total from trigger-kept counter rows (published posts), less the scheduled ones."""
    counted = func.coalesce(func.sum(counter.posts), literal_column("0"))
    return select((counted - scheduled).label("total")).select_from(counter).where(*where)


def _ahead(counter: Any, *where: Any, later_today: Any) -> Any:  # pragma: no mutate block
    """Published posts whose time has not come, in O(days ahead): the day counters of the
    days after today (ScheduledPostCount: exact for those days, kept by triggers), plus
    today's posts still ahead, an index range from now to the start of tomorrow."""
    days = func.coalesce(func.sum(counter.posts), literal_column("0"))
    after_today = select(days).where(*where, counter.day > TODAY).scalar_subquery()
    return after_today + later_today


# All published posts: the trigger-kept counters (published posts), less the scheduled ones
# whose time has not come: one counter row per future day, and today's few by the index.
# (Counted by the index alone, the ~3,000 scheduled posts at a million cost PostgreSQL 2,148
# buffer hits, ~0.5 ms, on every list.)
SCHEDULED = _ahead(
    ScheduledPostCount,
    later_today=_count(Post.published_at > NOW, Post.published_at < TOMORROW).scalar_subquery(),
)
TOTAL = _counted(PostCount, scheduled=SCHEDULED)
# A user's and a tag's: their own counter rows (migration 0008), read by primary key. A
# user's scheduled posts are few, and a range of their own index.
USER_TOTAL = _counted(
    UserPostCount, UserPostCount.user_id == USER_ID, scheduled=_scheduled(BY_USER)
)
# A tag's scheduled posts: its day counters (migration 0030), and today's a range of
# post_tags' (tag_id, published_at, post_id) index.
TAG_SCHEDULED = _ahead(
    ScheduledTagPostCount,
    ScheduledTagPostCount.tag_id == TAG_ID,
    later_today=select(func.count())
    .select_from(PostTag)
    .where(PostTag.tag_id == TAG_ID, PostTag.published_at > NOW, PostTag.published_at < TOMORROW)
    .scalar_subquery(),
)
TAG_TOTAL = _counted(TagPostCount, TagPostCount.tag_id == TAG_ID, scheduled=TAG_SCHEDULED)
# A user's posts with a tag: their counter rows (migration 0023), less their scheduled posts
# with the tag (a range of post_tags' (user_id, tag_id, published_at, post_id) index, bounded
# on both sides for the reason _scheduled gives).
BY_USER_TAGGED = PostTag.user_id == USER_ID
USER_TAG_SCHEDULED = (
    select(func.count())
    .select_from(PostTag)
    .where(
        BY_USER_TAGGED,
        PostTag.tag_id == TAG_ID,
        PostTag.published_at > NOW,
        PostTag.published_at < NEVER,
    )
    .scalar_subquery()
)
USER_TAG_TOTAL = _counted(
    UserTagPostCount,
    UserTagPostCount.user_id == USER_ID,
    UserTagPostCount.tag_id == TAG_ID,
    scheduled=USER_TAG_SCHEDULED,
)


# Every list a reader sees, by (a user's?, a tag's?).
TOTALS = {
    (False, False): TOTAL,
    (True, False): USER_TOTAL,
    (False, True): TAG_TOTAL,
    (True, True): USER_TAG_TOTAL,
}
# ... and by (full rows for the API?, newer: the page before a key?).
PAGES = {
    (by_user, by_tag, full, newer): _page(
        LIST_COLUMNS[full],
        TOTALS[by_user, by_tag],
        # A user's posts with a tag: post_tags' copy of the author.
        *((BY_USER_TAGGED if by_tag else BY_USER,) if by_user else ()),
        newer=newer,
        tagged=by_tag,
    )
    for by_user in (False, True)
    for by_tag in (False, True)
    for full in (False, True)
    for newer in (False, True)
    if not (full and newer)  # only pages link to newer posts
}
# A user's empty page: their count, and whether they still exist. A route found the user
# before it read the page; a deletion committed in between leaves an empty page in a later
# snapshot, which must be a 404 (the user is gone), not "this user has no posts".
USER_TOTALS = {
    by_tag: select(
        TOTALS[True, by_tag].scalar_subquery().label("total"),
        exists().where(User.id == USER_ID).label("user_exists"),
    )
    for by_tag in (False, True)
}
# An author's drafts and scheduled posts (the /drafts page), last changed first, by keyset
# on (updated_at, id). "Not yet visible" as published_at IS NULL (a draft: the check
# constraint) or in the future, so both branches are ranges of the author's
# (user_id, published_at, id) index and only their drafts are sorted, not all their posts.
NOT_YET_VISIBLE_AT = or_(Post.published_at.is_(None), Post.published_at > NOW)
DRAFTS_BEFORE_KEY = tuple_(Post.updated_at, Post.id) < tuple_(KEY_AT, KEY_ID)
DRAFTS = (
    _posts(SUMMARY_COLUMNS, _count(BY_USER, NOT_YET_VISIBLE_AT).scalar_subquery().label("total"))
    .where(BY_USER, NOT_YET_VISIBLE_AT, DRAFTS_BEFORE_KEY)
    .order_by(Post.updated_at.desc(), Post.id.desc())
    .limit(bindparam("limit"))
    .offset(bindparam("skip"))
)
# Posts waiting for an editor (drafts submitted for review), the longest waiting first. Few
# at a time on any blog: no index of their own; the editors' /drafts page shows them.
IN_REVIEW = (
    _posts(SUMMARY_COLUMNS)
    .where(Post.status == DRAFT, Post.submitted_at.is_not(None))
    .order_by(Post.submitted_at, Post.id)
    .limit(bindparam("limit"))
)
# One post, with what its page shows of its author besides their name: the profile.
ONE = _posts(
    FULL_COLUMNS,
    User.bio_html.label("author_bio_html"),
    User.website.label("author_website"),
).where(Post.id == bindparam("post_id"))


def version_of(model: Any) -> Select[Any]:
    """A version kept in slots (TagCountVersion, PageVersion): the sum of their `changes`,
    zero for an empty table."""
    return select(func.coalesce(func.sum(model.changes), literal_column("0")).label("version"))


# Tags with their published posts, most used first (GET /api/tags, the sitemap): each tag's
# trigger-kept counter rows (migration 0008) less its scheduled posts whose time has not come
# (a range of post_tags' (tag_id, published_at, post_id) index), so the cost grows with the
# number of tags, never with the number of posts. Each database has its own form (at a million
# posts, 244 tags):
# - SQLite probes each tag's eight counter rows by primary key (a pass summed by tag ran 22%
#   more of its virtual machine's steps), and bounds the scheduled posts on one side (with
#   both, each of the ~5,600 entries is compared twice: 6% more instructions a request).
# - PostgreSQL sums the counters by tag in one pass over the table: a probe per tag read its
#   eight rows from the heap (the counters change too often to be all-visible), 2,750 buffers
#   and 1.5 ms a list against 780 and 1.0 ms. Its scheduled posts are bounded on both sides:
#   the plan for any values (the one a prepared statement keeps) guesses a one-sided range at
#   a third of the tag's rows, so it looked dearer than a plan for the values given and the
#   statement was planned anew on every run (pg_prepared_statements: 30 custom plans of 30,
#   now 5, then the generic plan).
#
# Its first row says what a process needs to keep the list (fastblog.posts.tag_list_cache):
# - `version`: the sum of tag_count_versions, which every write changing the list's inputs
#   moves in its own transaction (migration 0029);
# - `next_at`: when the next scheduled post with a tag comes out, the one thing that changes
#   the list with no write at all (NULL: none is scheduled). The first entry of posts'
#   (published_at, id) index past now whose post has a tag (a probe of post_tags' primary
#   key), rather than post_tags' own copies, which no index orders by published_at alone.
# The version alone: what a process that kept the list reads on each request (eight rows).
TAG_LIST_VERSION = version_of(TagCountVersion)
NEXT_TAGGED_SCHEDULED = (
    select(Post.published_at)
    .where(
        Post.published_at > NOW,
        exists().where(PostTag.post_id == Post.id),
    )
    .order_by(Post.published_at)
    # In the text, not a parameter: PostgreSQL's plan for any values guesses `LIMIT $n` at a
    # tenth of the rows, judged it dearer than a plan for the values given, and planned the
    # whole list anew on every run (pg_prepared_statements: 30 custom plans of 30; with
    # `LIMIT 1`, 5, then the generic plan).
    .limit(literal_column("1"))
    .scalar_subquery()
)
TAG_LIST_STATE = select(
    TAG_LIST_VERSION.scalar_subquery().label("version"), NEXT_TAGGED_SCHEDULED.label("next_at")
).subquery("state")


def _tag_counts(*, postgres: bool) -> Any:  # pragma: no mutate block
    tag_id: Any
    counted: Any
    tags: Any
    if postgres:
        counters = (
            select(TagPostCount.tag_id, func.sum(TagPostCount.posts).label("posts"))
            .group_by(TagPostCount.tag_id)
            .cte("counters")
            .prefix_with("MATERIALIZED")
        )
        tag_id, counted, tags = counters.c.tag_id, counters.c.posts, counters
    else:
        tag_id, tags = Tag.id, Tag.__table__
        counted = (
            select(func.coalesce(func.sum(TagPostCount.posts), literal_column("0")))
            .where(TagPostCount.tag_id == Tag.id)
            .scalar_subquery()
        )
    scheduled = (
        select(func.count())
        .select_from(PostTag)
        .where(PostTag.tag_id == tag_id, PostTag.published_at > NOW)
        .where(*((PostTag.published_at < NEVER,) if postgres else ()))
        .scalar_subquery()
    )
    named = select(Tag.name, (counted - scheduled).label("posts")).select_from(tags)
    if postgres:
        named = named.join(Tag, Tag.id == tag_id)
    # MATERIALIZED: each tag's count worked out once. As a plain subquery both databases fold
    # it into the outer statement, which then counts every tag twice (for `posts > 0` and for
    # the column): 85 ms against 46 at a million posts on PostgreSQL before its tables were
    # vacuumed.
    each = named.cte("counted").prefix_with("MATERIALIZED")
    listed = (
        select(each.c.name, each.c.posts)
        .where(each.c.posts > 0)
        .order_by(each.c.posts.desc(), each.c.name)
        .limit(bindparam("limit"))
        .subquery("listed")
    )
    # One statement, so the list and what it was read at share a snapshot: first the one row
    # of TAG_LIST_STATE (`part` 0, there even when no tag is), then the list's rows. Not the
    # state on every row (a join): each row's date converted in Python, 0.08 ms more a list
    # on SQLite (the sort of the 101 rows that this costs instead: ~1,300 VM steps).
    none: Any = literal_column("NULL")
    return union_all(
        select(
            literal_column("0").label("part"),
            none.label("name"),
            none.label("posts"),
            TAG_LIST_STATE.c.version,
            TAG_LIST_STATE.c.next_at,
        ),
        select(literal_column("1"), listed.c.name, listed.c.posts, none, none),
    ).order_by(literal_column("part"), literal_column("posts").desc(), literal_column("name"))


TAG_COUNTS = _tag_counts(postgres=False)
POSTGRES_TAG_COUNTS = _tag_counts(postgres=True)
# The author as a token names them: the account exists and its auth version is the token's
# (a password change, a reset or "log out everywhere" moves it on).
AUTHOR_NOW = (User.id == bindparam("user_id")) & (User.auth_version == bindparam("auth_version"))
AUTHOR = select(User.username, User.image_file, User.role).where(AUTHOR_NOW)

INSERTED_COLUMNS = (
    "title",
    "slug",
    "content",
    "content_html",
    "excerpt",
    "body_text",
    "status",
    "submitted_at",
    "published_at",
    "updated_at",
    "date_posted",
    "comments_enabled",
    "feature_image",
    "feature_image_alt",
    "picture",
    "send_newsletter",
    "announce_pending",
)
# INSERT … SELECT FROM users: the author's existence is checked by the same statement that
# writes, so no transaction has to span two round trips.
INSERT = (
    insert(Post)
    .from_select(
        [*INSERTED_COLUMNS, "user_id"],
        select(
            *(bindparam(name, type_=Post.__table__.c[name].type) for name in INSERTED_COLUMNS),
            User.id,
        ).where(AUTHOR_NOW),
    )
    .returning(Post.id)
)


def is_visible(post: dict[str, Any], now: datetime) -> bool:
    """Whether readers may see it (its author always may)."""
    published_at: datetime | None = post["published_at"]
    return post["status"] == PUBLISHED and published_at is not None and published_at <= now


def post_of(row: Row) -> dict[str, Any]:
    """A post as the API shows it, from a row with SUMMARY_COLUMNS or FULL_COLUMNS (and more
    columns, kept as they are): for lists built elsewhere (fastblog.search). The row itself,
    changed in place."""
    return _post(row)


AUTHOR_PROFILE = (("author_bio_html", "bio_html"), ("author_website", "website"))


def _post(row: Row) -> dict[str, Any]:
    # The row becomes the post, in place (each row is read once, by this): its author's
    # columns move into `author`, the list's total and submitted_at go. A new dict of the
    # row's other columns cost a tenth of a list of 20's CPU.
    author = {
        "id": row["user_id"],
        "username": row.pop("author_username"),
        "image_file": row.pop("author_image_file"),
    }
    for column, name in AUTHOR_PROFILE:  # one post's page shows the author's profile
        if column in row:
            author[name] = row.pop(column)
    row.pop("total", None)
    if row.pop("submitted_at", None) is not None and row["status"] == DRAFT:
        row["status"] = REVIEW
    tags = row["tags"]
    row["tags"] = sorted(tags.split()) if tags else []
    row["author"] = author
    return row


async def fetch_post(
    db: Database, post_id: int, *, viewer_id: int | None = None
) -> dict[str, Any] | None:
    """The post, whatever its status: the caller decides who may see it. `liked`: whether
    `viewer_id` likes it."""
    row = await db.fetch_one(ONE, {"post_id": post_id, "viewer_id": viewer_id})
    return _post(row) if row else None


@dataclass(frozen=True, slots=True)
class PostList:
    """A page of posts, the total of its list, and where the pages around it start."""

    posts: list[dict[str, Any]]
    total: int
    # The next page's cursor (rows older than this key); None on the last page.
    older: Keyset | None
    # Where the page before ends (rows newer than this key, ?before=); None when this page
    # cannot tell (a page past the end) or when nothing is newer (`at_top`).
    newer: Keyset | None = None
    at_top: bool = True


def utc_day(at: datetime) -> date:
    """The day a scheduled post's publication time counts under (ScheduledPostCount's day,
    as migration 0030's triggers take it)."""
    return at.astimezone(UTC).date()


def scheduled_bounds(now: datetime) -> dict[str, Any]:
    """TODAY and TOMORROW for `now`: its UTC day, and the start of the next."""
    today = utc_day(now)
    return {"today": today, "tomorrow": datetime.combine(today + timedelta(days=1), time(), UTC)}


async def fetch_page(
    db: Database,
    *,
    now: datetime,
    limit: int,
    skip: int = 0,
    after: Keyset | None = None,
    before: Keyset | None = None,
    user_id: int | None = None,
    tag: str | None = None,
    full: bool = True,
    viewer_id: int | None = None,
) -> PostList:
    """One page of what readers see, newest first: from the top (passing `skip` rows, which
    costs the database a walk over them: bounded by fastblog.params.MAX_SKIP), or after a
    cursor, or (`before`) the page just before one. One statement unless the page is empty; `liked`:
    whether `viewer_id` likes each post.
    One row more than the page is read, to know whether another page follows."""
    top = Keyset(at=now, id=MAX_CURSOR_ID)
    # Never later than now (see _page): a cursor from the future starts at the top.
    key = before or (after if after is not None and after.at <= now else top)
    values: dict[str, Any] = {
        "viewer_id": viewer_id,
        "now": now,
        **scheduled_bounds(now),
        "skip": 0 if before else skip,
        "limit": limit + 1,
        "key_at": key.at,
        "key_id": key.id,
        "user_id": user_id,
        "tag": tag,
    }
    by = (user_id is not None, tag is not None)
    rows = await db.fetch(PAGES[(*by, full, before is not None)], values)
    total = int(rows[0]["total"]) if rows else await _empty_list_total(db, values, by)
    more = len(rows) > limit
    posts = [_post(row) for row in rows[:limit]]
    if before is not None:  # read oldest first from the key: the newest is shown first
        posts.reverse()
        newer = Keyset.after(posts[0]) if more else None
        return PostList(posts, total, Keyset.after(posts[-1]) if posts else before, newer, not more)
    at_top = after is None and skip == 0
    newer = Keyset.after(posts[0]) if posts and not at_top else None
    return PostList(posts, total, Keyset.after(posts[-1]) if more else None, newer, at_top)


async def _empty_list_total(db: Database, values: dict[str, Any], by: tuple[bool, bool]) -> int:
    by_user, by_tag = by
    if not by_user:
        count = await db.fetch_one(TOTALS[by], values)
        return int(count["total"]) if count else 0
    count = await db.fetch_one(USER_TOTALS[by_tag], values)
    if count is None or not count["user_exists"]:
        raise NotFoundError("User not found")
    return int(count["total"])


async def fetch_drafts(
    db: Database, *, user_id: int, now: datetime, limit: int, skip: int = 0, after: Keyset | None
) -> PostList:
    """An author's drafts and scheduled posts, last changed first, from the top or after a
    cursor on (updated_at, id)."""
    key = after or Keyset(at=END_OF_TIME, id=MAX_CURSOR_ID)
    values = {
        "user_id": user_id,
        "now": now,
        "skip": skip,
        "limit": limit + 1,
        "key_at": key.at,
        "key_id": key.id,
    }
    rows = await db.fetch(DRAFTS, values)
    total = int(rows[0]["total"]) if rows else 0  # before _post takes it out of the row
    posts = [_post(row) for row in rows[:limit]]
    more = len(rows) > limit
    older = Keyset.after(posts[-1], at="updated_at") if more else None
    return PostList(posts, total, older, at_top=after is None and skip == 0)


async def fetch_in_review(db: Database, *, limit: int = 50) -> list[dict[str, Any]]:
    """Posts submitted for review, the longest waiting first (for editors)."""
    return [_post(row) for row in await db.fetch(IN_REVIEW, {"limit": limit, "viewer_id": None})]


@dataclass(frozen=True, slots=True)
class TagCounts:
    """The tag list as one statement read it, and what it was read at."""

    tags: list[Row]  # each tag's `name` and how many visible `posts` carry it, most used first
    version: int  # tag_count_versions' sum in the same snapshot
    next_at: datetime | None  # the next scheduled post with a tag comes out then (or never)


async def fetch_tag_list(db: Database, *, now: datetime, limit: int) -> TagCounts:
    """Tags with their visible posts, most used first, with the version and the time of the
    next scheduled post read in the same statement."""
    counts = POSTGRES_TAG_COUNTS if db.engine.dialect.name == "postgresql" else TAG_COUNTS
    state, *rows = await db.fetch(counts, {"now": now, "limit": limit})
    # An int on both databases: PostgreSQL sums a BIGINT as a NUMERIC.
    tags = [{"name": row["name"], "posts": int(row["posts"])} for row in rows]
    return TagCounts(tags, int(state["version"]), state["next_at"])


async def fetch_tag_list_version(db: Database) -> int:
    """tag_count_versions' sum now: it has moved if and only if the tag list's inputs have."""
    return await fetch_version(db, TAG_LIST_VERSION)


async def fetch_version(db: Database, version: Select[Any]) -> int:
    """A version_of statement's value."""
    (row,) = await db.fetch(version)  # an aggregate: one row
    return int(row["version"])  # PostgreSQL sums a BIGINT as a NUMERIC


async def fetch_tag_counts(db: Database, *, now: datetime, limit: int) -> list[Row]:
    """Each tag's `name` and how many visible `posts` carry it, most used first."""
    return (await fetch_tag_list(db, now=now, limit=limit)).tags


async def fetch_author(db: Database, *, author_id: int, auth_version: int) -> Row | None:
    """The author a token names (username, image_file, role), or None if the account is gone
    or has moved past `auth_version` (the token was revoked)."""
    return await db.fetch_one(AUTHOR, {"user_id": author_id, "auth_version": auth_version})


async def insert_post(
    db: Database, *, values: dict[str, Any], author_id: int, auth_version: int, author: Row
) -> dict[str, Any] | None:
    """A post without tags, in one statement: the new post with its author (`author`, as
    fetch_author read it), or None if the author does not exist any more or has moved past
    `auth_version` since. `values` holds every column of INSERTED_COLUMNS."""
    try:
        inserted = await db.write(
            INSERT, {**values, "user_id": author_id, "auth_version": auth_version}
        )
    except ConstraintViolationError:  # the author was deleted meanwhile
        return None
    if not inserted:
        return None
    shown = {name: value for name, value in values.items() if name != "submitted_at"}
    if values["submitted_at"] is not None:
        shown["status"] = REVIEW
    return {
        "id": inserted[0]["id"],
        **shown,
        "user_id": author_id,
        "comments": 0,
        "tags": [],
        "author": {
            "id": author_id,
            "username": author["username"],
            "image_file": author["image_file"],
        },
    }
