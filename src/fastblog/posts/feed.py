"""A reader's feed: the published posts of the authors they follow, newest first, a page at a
time by keyset (fastblog.pagination.Keyset on (published_at, id)), in one statement.

The authors come from follows' primary key (follower_id, followee_id); each author's posts
from ix_posts_user_id_published_at_id, read backwards from the cursor (or from now).
"""

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, exists, func, literal_column, select, true, tuple_
from sqlalchemy.orm import aliased

from fastblog.accounts.follows import PROFILE_COLUMNS
from fastblog.accounts.models import Follow, User
from fastblog.db import Database, Row
from fastblog.pagination import Keyset
from fastblog.posts.models import PUBLISHED, Post, UserPostCount
from fastblog.posts.queries import (
    FULL_COLUMNS,
    NEWEST_FIRST,
    NOW,
    SUMMARY_COLUMNS,
    USER_ID,
    USER_TOTAL,
    VISIBLE,
    post_of,
)

FOLLOWED = Post.user_id.in_(
    select(Follow.followee_id).where(
        Follow.follower_id == bindparam("viewer_id", type_=Follow.follower_id.type)
    )
)


def _before(posts: Any) -> Any:
    """After the cursor: (published_at, id) below the last row shown, of `posts` (the table
    or an alias of it)."""
    return tuple_(posts.published_at, posts.id) < tuple_(
        bindparam("at", type_=Post.published_at.type), bindparam("id", type_=Post.id.type)
    )


BEFORE = _before(Post)


def _feed(columns: tuple[Any, ...], *where: Any) -> Any:
    return (
        select(*columns)
        .join(User, User.id == Post.user_id)
        .where(VISIBLE, FOLLOWED, *where)
        .order_by(*NEWEST_FIRST)
        .limit(bindparam("limit"))
    )


# By (after a cursor?, full rows for the API?).
PAGES = {
    (after, full): _feed(FULL_COLUMNS if full else SUMMARY_COLUMNS, *((BEFORE,) if after else ()))
    for after in (False, True)
    for full in (False, True)
}

# PostgreSQL: the page's ids first, the newest `limit` of each followed author from
# ix_posts_user_id_published_at_id (LATERAL), the page the newest of those, then its rows by
# primary key. Left to the statement above, PostgreSQL walked the dates' index while it
# believed follows empty and, once the follows were analyzed, read every post of every
# followed author (265,457 rows, content and all, for 20 of a million-post blog's busiest
# authors) and sorted them: 4.4 s a page against 1 ms. SQLite keeps the statement above
# (it has no LATERAL and plans it without statistics).
_FOLLOWED = (
    select(Follow.followee_id.label("user_id"))
    .where(Follow.follower_id == bindparam("viewer_id", type_=Follow.follower_id.type))
    .subquery("followed")
)
_EACH = aliased(Post, name="each_post")
_EACH_BEFORE = _before(_EACH)


def _page_ids(*where: Any) -> Any:
    newest = (
        select(_EACH.id, _EACH.published_at)
        .where(
            _EACH.user_id == _FOLLOWED.c.user_id,
            _EACH.status == PUBLISHED,
            _EACH.published_at <= NOW,
            *where,
        )
        .order_by(_EACH.published_at.desc(), _EACH.id.desc())
        .limit(bindparam("limit"))
        .lateral("newest")
    )
    return (
        select(newest.c.id)
        .select_from(_FOLLOWED.join(newest, true()))
        .order_by(newest.c.published_at.desc(), newest.c.id.desc())
        .limit(bindparam("limit"))
    )


def _feed_by_ids(columns: tuple[Any, ...], *where: Any) -> Any:
    # Joined, not `IN`: with the ids as a semi-join filter, PostgreSQL may walk the site's
    # dates' index until it has met them all, far back when the followed authors are quiet.
    page = _page_ids(*where).subquery("page")
    return (
        select(*columns)
        .select_from(page)
        .join(Post, Post.id == page.c.id)
        .join(User, User.id == Post.user_id)
        .order_by(*NEWEST_FIRST)
    )


POSTGRES_PAGES = {
    (after, full): _feed_by_ids(
        FULL_COLUMNS if full else SUMMARY_COLUMNS, *((_EACH_BEFORE,) if after else ())
    )
    for after in (False, True)
    for full in (False, True)
}


async def fetch_feed(
    db: Database,
    *,
    viewer_id: int,
    now: datetime,
    limit: int,
    cursor: Keyset | None,
    full: bool = True,
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the feed and the cursor of the next one (None on the last page)."""
    values: dict[str, Any] = {"viewer_id": viewer_id, "now": now, "limit": limit + 1}
    if cursor is not None:
        values |= {"at": cursor.at, "id": cursor.id}
    pages = POSTGRES_PAGES if db.engine.dialect.name == "postgresql" else PAGES
    rows = await db.fetch(pages[cursor is not None, full], values)
    posts = [post_of(row) for row in rows[:limit]]
    next_cursor = Keyset.after(posts[-1]).encode() if len(rows) > limit else None
    return posts, next_cursor


# A public profile: follow counts (accounts), published posts (the trigger-kept per-user
# counters of fastblog.posts.queries), and whether the reader follows the user; one statement.
PROFILE = select(*PROFILE_COLUMNS, USER_TOTAL.scalar_subquery().label("posts")).where(
    User.id == USER_ID
)
# Authors to suggest to someone who follows nobody yet: the most published, not themselves,
# not followed. (Every user's counters are summed: this page is shown to newcomers only.)
AUTHOR_POSTS = (
    select(func.coalesce(func.sum(UserPostCount.posts), literal_column("0")))
    .where(UserPostCount.user_id == User.id)
    .scalar_subquery()
)
VIEWER = bindparam("viewer_id", type_=User.id.type)
SUGGESTED = (
    select(
        User.id,
        User.username,
        User.image_file,
        User.follower_count.label("followers"),
        AUTHOR_POSTS.label("posts"),
    )
    .where(
        literal_column("0") < AUTHOR_POSTS,
        User.id != VIEWER,
        ~exists().where(Follow.follower_id == VIEWER, Follow.followee_id == User.id),
    )
    .order_by(AUTHOR_POSTS.desc(), User.id)
    .limit(bindparam("limit"))
)


async def fetch_profile(
    db: Database, user_id: int, *, viewer_id: int | None, now: datetime
) -> Row | None:
    """The public profile with its counts, and whether `viewer_id` follows the user."""
    values = {"user_id": user_id, "followee_id": user_id, "viewer_id": viewer_id, "now": now}
    return await db.fetch_one(PROFILE, values)


async def fetch_suggested_authors(db: Database, *, viewer_id: int, limit: int) -> list[Row]:
    return await db.fetch(SUGGESTED, {"viewer_id": viewer_id, "limit": limit})
