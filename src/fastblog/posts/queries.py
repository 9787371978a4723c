"""The posts' one-statement queries (the compiled road of fastblog.db): what every page view
and every new post runs.

Rows come back as dicts shaped like `PostPublic` (author nested), which the API validates
once into its response model and the templates read directly.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, literal_column, select

from fastblog.accounts.models import User
from fastblog.db import ConstraintViolationError, Database, Row
from fastblog.posts.models import Post, PostCount

POST_COLUMNS = (
    Post.id,
    Post.title,
    Post.content,
    Post.user_id,
    Post.date_posted,
    User.username.label("author_username"),
    User.image_file.label("author_image_file"),
)
NEWEST_FIRST = (Post.date_posted.desc(), Post.id.desc())
BY_USER = Post.user_id == bindparam("user_id")


def _with_author(*extra: Any) -> Any:
    return select(*POST_COLUMNS, *extra).join(User, User.id == Post.user_id)


def _page(total: Any) -> Any:
    # The total rides along as an uncorrelated scalar subquery: evaluated once per statement,
    # so a page and its count cost one round trip instead of two.
    return (
        _with_author(total.scalar_subquery().label("total"))
        .order_by(*NEWEST_FIRST)
        .limit(bindparam("limit"))
        .offset(bindparam("skip"))
    )


# All posts: the sum of the trigger-kept slots (see PostCount), not a scan of the table.
TOTAL = select(func.coalesce(func.sum(PostCount.posts), literal_column("0")).label("total"))
TOTAL_BY_USER = select(func.count().label("total")).select_from(Post).where(BY_USER)

ONE = _with_author().where(Post.id == bindparam("post_id"))
PAGE = _page(TOTAL)
PAGE_BY_USER = _page(TOTAL_BY_USER).where(BY_USER)
# The author as a token names them: the account exists and its auth version is the token's.
AUTHOR_NOW = (User.id == bindparam("user_id")) & (User.auth_version == bindparam("auth_version"))
AUTHOR = select(User.username, User.image_file).where(AUTHOR_NOW)
# INSERT … SELECT FROM users: the author's existence is checked by the same statement that
# writes, so no transaction has to span two round trips.
INSERT = (
    insert(Post)
    .from_select(
        ["title", "content", "user_id", "date_posted"],
        select(
            bindparam("title", type_=Post.title.type),
            bindparam("content", type_=Post.content.type),
            User.id,
            bindparam("date_posted", type_=Post.date_posted.type),
        ).where(AUTHOR_NOW),
    )
    .returning(Post.id, Post.date_posted)
)


def _post(row: Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "title": row["title"],
        "content": row["content"],
        "user_id": row["user_id"],
        "date_posted": row["date_posted"],
        "author": {
            "id": row["user_id"],
            "username": row["author_username"],
            "image_file": row["author_image_file"],
        },
    }


async def fetch_post(db: Database, post_id: int) -> dict[str, Any] | None:
    row = await db.fetch_one(ONE, {"post_id": post_id})
    return _post(row) if row else None


async def fetch_page(
    db: Database, *, skip: int, limit: int, user_id: int | None = None
) -> tuple[list[dict[str, Any]], int]:
    """One page, newest first, and the total; one statement unless the page is empty."""
    values: dict[str, Any] = {"skip": skip, "limit": limit, "user_id": user_id}
    by_user = user_id is not None
    rows = await db.fetch(PAGE_BY_USER if by_user else PAGE, values)
    if rows:
        return [_post(row) for row in rows], int(rows[0]["total"])
    count = await db.fetch_one(TOTAL_BY_USER if by_user else TOTAL, values)
    return [], int(count["total"]) if count else 0


async def insert_post(
    db: Database, *, title: str, content: str, author_id: int, auth_version: int, now: datetime
) -> dict[str, Any] | None:
    """The new post with its author, or None if the author does not exist (any more) or has
    moved past `auth_version` (the token was revoked)."""
    author = await db.fetch_one(AUTHOR, {"user_id": author_id, "auth_version": auth_version})
    if author is None:
        return None
    values = {
        "title": title,
        "content": content,
        "user_id": author_id,
        "auth_version": auth_version,
        "date_posted": now,
    }
    try:
        inserted = await db.write(INSERT, values)
    except ConstraintViolationError:  # the author was deleted between the two statements
        return None
    if not inserted:
        return None
    return {
        "id": inserted[0]["id"],
        "title": title,
        "content": content,
        "user_id": author_id,
        "date_posted": inserted[0]["date_posted"],
        "author": {"id": author_id, **author},
    }
