"""The posts' one-statement queries (the compiled road of fastblog.db): what every page view
and every new post without tags runs.

Rows come back as dicts shaped like `PostPublic` (author nested, tags a list), which the API
validates once into its response model and the templates read directly.

What a reader sees is a read-time filter, `status = 'published' AND published_at <= :now`:
a scheduled post appears on time with no job running. Drafts have no published_at, so the
index on (published_at, id) serves every list newest first.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, insert, literal_column, or_, select

from fastblog.accounts.models import User
from fastblog.db import ConstraintViolationError, Database, Row
from fastblog.exceptions import NotFoundError
from fastblog.posts.models import DRAFT, PUBLISHED, Post, PostCount, PostLike, PostTag, Tag

NOW = bindparam("now", type_=Post.published_at.type)
VISIBLE = and_(Post.status == PUBLISHED, Post.published_at <= NOW)
NOT_YET_VISIBLE = or_(Post.status == DRAFT, Post.published_at > NOW)
BY_USER = Post.user_id == bindparam("user_id")
BY_TAG = Post.id.in_(
    select(PostTag.post_id)
    .join(Tag, Tag.id == PostTag.tag_id)
    .where(Tag.name == bindparam("tag", type_=Tag.name.type))
)
# A post's tags in one string (a tag holds no comma): a correlated subquery per row, served
# by post_tags' primary key, so a page and its tags are still one statement.
TAGS = (
    # The separator as a literal: a bound one would be a post-compile parameter, which the
    # compiled road does not take.
    select(func.aggregate_strings(Tag.name, literal_column("','")))  # type: ignore[arg-type]
    .select_from(PostTag)
    .join(Tag, Tag.id == PostTag.tag_id)
    .where(PostTag.post_id == Post.id)
    .scalar_subquery()
    .label("tags")
)

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
    Post.published_at,
    Post.updated_at,
    Post.user_id,
    Post.date_posted,
    User.username.label("author_username"),
    User.image_file.label("author_image_file"),
    TAGS,
    Post.like_count.label("likes"),
    LIKED,
)
# Pages show lists as excerpts; the API's posts carry the source and the HTML too.
FULL_COLUMNS = (*SUMMARY_COLUMNS, Post.content, Post.content_html)
NEWEST_FIRST = (Post.published_at.desc(), Post.id.desc())


def _posts(columns: tuple[Any, ...], *extra: Any) -> Any:
    return select(*columns, *extra).join(User, User.id == Post.user_id)


def _page(columns: tuple[Any, ...], total: Any, *where: Any) -> Any:
    # The total rides along as an uncorrelated scalar subquery: evaluated once per statement,
    # so a page and its count cost one round trip instead of two.
    return (
        _posts(columns, total.scalar_subquery().label("total"))
        .where(*where)
        .order_by(*NEWEST_FIRST)
        .limit(bindparam("limit"))
        .offset(bindparam("skip"))
    )


def _count(*where: Any) -> Any:
    return select(func.count().label("total")).select_from(Post).where(*where)


# All published posts: the trigger-kept counters (published posts), less the few scheduled
# ones whose time has not come (an index range on published_at > now).
SCHEDULED = _count(Post.status == PUBLISHED, Post.published_at > NOW).scalar_subquery()
TOTAL = select(
    (func.coalesce(func.sum(PostCount.posts), literal_column("0")) - SCHEDULED).label("total")
)


def _filters(by_user: bool, by_tag: bool) -> tuple[Any, ...]:
    return (VISIBLE, *((BY_USER,) if by_user else ()), *((BY_TAG,) if by_tag else ()))


# Every list a reader sees, by (a user's?, a tag's?, full rows for the API?).
TOTALS = {
    (by_user, by_tag): TOTAL if not (by_user or by_tag) else _count(*_filters(by_user, by_tag))
    for by_user in (False, True)
    for by_tag in (False, True)
}
PAGES = {
    (by_user, by_tag, full): _page(
        FULL_COLUMNS if full else SUMMARY_COLUMNS,
        TOTALS[by_user, by_tag],
        *_filters(by_user, by_tag),
    )
    for by_user in (False, True)
    for by_tag in (False, True)
    for full in (False, True)
}
# A user's empty page: their count, and whether they still exist. A route found the user
# before it read the page; a deletion committed in between leaves an empty page in a later
# snapshot, which must be a 404 (the user is gone), not "this user has no posts".
USER_TOTALS = {
    by_tag: select(
        TOTALS[True, by_tag].scalar_subquery().label("total"),
        exists().where(User.id == bindparam("user_id")).label("user_exists"),
    )
    for by_tag in (False, True)
}
# An author's drafts and scheduled posts (the /drafts page), latest first.
DRAFTS = (
    _posts(SUMMARY_COLUMNS, _count(BY_USER, NOT_YET_VISIBLE).scalar_subquery().label("total"))
    .where(BY_USER, NOT_YET_VISIBLE)
    .order_by(Post.updated_at.desc(), Post.id.desc())
    .limit(bindparam("limit"))
    .offset(bindparam("skip"))
)
ONE = _posts(FULL_COLUMNS).where(Post.id == bindparam("post_id"))
# Tags with their published posts, most used first (GET /api/tags).
TAG_COUNTS = (
    select(Tag.name, func.count().label("posts"))
    .select_from(Tag)
    .join(PostTag, PostTag.tag_id == Tag.id)
    .join(Post, Post.id == PostTag.post_id)
    .where(VISIBLE)
    .group_by(Tag.name)
    .order_by(func.count().desc(), Tag.name)
    .limit(bindparam("limit"))
)
# The author as a token names them: the account exists and its auth version is the token's
# (a password change, a reset or "log out everywhere" moves it on).
AUTHOR_NOW = (User.id == bindparam("user_id")) & (User.auth_version == bindparam("auth_version"))
AUTHOR = select(User.username, User.image_file).where(AUTHOR_NOW)

INSERTED_COLUMNS = (
    "title",
    "slug",
    "content",
    "content_html",
    "excerpt",
    "status",
    "published_at",
    "updated_at",
    "date_posted",
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


def _post(row: Row) -> dict[str, Any]:
    post = {name: row[name] for name in row if not name.startswith("author_")}
    post.pop("total", None)
    post["tags"] = sorted(row["tags"].split(",")) if row["tags"] else []
    post["author"] = {
        "id": row["user_id"],
        "username": row["author_username"],
        "image_file": row["author_image_file"],
    }
    return post


post_of = _post  # a row of SUMMARY_COLUMNS or FULL_COLUMNS, for lists built elsewhere


async def fetch_post(
    db: Database, post_id: int, *, viewer_id: int | None = None
) -> dict[str, Any] | None:
    """The post, whatever its status: the caller decides who may see it. `liked`: whether
    `viewer_id` likes it."""
    row = await db.fetch_one(ONE, {"post_id": post_id, "viewer_id": viewer_id})
    return _post(row) if row else None


async def fetch_page(
    db: Database,
    *,
    now: datetime,
    skip: int,
    limit: int,
    user_id: int | None = None,
    tag: str | None = None,
    full: bool = True,
    viewer_id: int | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """One page of what readers see, newest first, and the total; one statement unless the
    page is empty. `liked`: whether `viewer_id` likes each post."""
    values: dict[str, Any] = {
        "viewer_id": viewer_id,
        "now": now,
        "skip": skip,
        "limit": limit,
        "user_id": user_id,
        "tag": tag,
    }
    key = (user_id is not None, tag is not None)
    rows = await db.fetch(PAGES[(*key, full)], values)
    if rows:
        return [_post(row) for row in rows], int(rows[0]["total"])
    if user_id is None:
        count = await db.fetch_one(TOTALS[key], values)
        return [], int(count["total"]) if count else 0
    count = await db.fetch_one(USER_TOTALS[tag is not None], values)
    if count is None or not count["user_exists"]:
        raise NotFoundError("User not found")
    return [], int(count["total"])


async def fetch_drafts(
    db: Database, *, user_id: int, now: datetime, skip: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    values = {"user_id": user_id, "now": now, "skip": skip, "limit": limit}
    rows = await db.fetch(DRAFTS, values)
    return [_post(row) for row in rows], int(rows[0]["total"]) if rows else 0


async def fetch_tag_counts(db: Database, *, now: datetime, limit: int) -> list[Row]:
    return await db.fetch(TAG_COUNTS, {"now": now, "limit": limit})


async def insert_post(
    db: Database, *, values: dict[str, Any], author_id: int, auth_version: int
) -> dict[str, Any] | None:
    """A post without tags, in one statement: the new post with its author, or None if the
    author does not exist (any more) or has moved past `auth_version` (the token was revoked).
    `values` holds every column of INSERTED_COLUMNS."""
    author = await db.fetch_one(AUTHOR, {"user_id": author_id, "auth_version": auth_version})
    if author is None:
        return None
    try:
        inserted = await db.write(
            INSERT, {**values, "user_id": author_id, "auth_version": auth_version}
        )
    except ConstraintViolationError:  # the author was deleted between the two statements
        return None
    if not inserted:
        return None
    author_of = {"id": author_id, "username": author["username"], **author}
    return {
        "id": inserted[0]["id"],
        **values,
        "user_id": author_id,
        "tags": [],
        "author": author_of,
    }
