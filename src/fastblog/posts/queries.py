"""The posts' hot path: what every page view and every new post runs, on fastblog.direct.

Rows come back as plain dicts shaped like `PostPublic` (author nested), which the API
validates once into its response model and the templates read directly.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, literal_column, select
from sqlalchemy.engine import Dialect

from fastblog.direct import ConstraintViolationError, DirectDatabase, Query, Row, compile_query
from fastblog.posts.models import Post, PostCount
from fastblog.users.models import User

POST_COLUMNS = (
    Post.id,
    Post.title,
    Post.content,
    Post.user_id,
    Post.date_posted,
    User.username,
    User.image_file,
)
NEWEST_FIRST = (Post.date_posted.desc(), Post.id.desc())


def _with_author(*extra: Any) -> Any:
    return select(*POST_COLUMNS, *extra).join(User, User.id == Post.user_id)


def _page(total: Any) -> Any:
    # The total rides along as an uncorrelated scalar subquery: evaluated once per statement,
    # so a page and its count cost one round trip instead of two.
    return (
        _with_author(total.scalar_subquery())
        .order_by(*NEWEST_FIRST)
        .limit(bindparam("limit"))
        .offset(bindparam("skip"))
    )


def _count() -> Any:
    return select(func.count()).select_from(Post)


def _total() -> Any:
    # All posts: the sum of the trigger-kept slots (see PostCount), not a scan of the table.
    return select(func.coalesce(func.sum(PostCount.posts), literal_column("0")))


@dataclass(frozen=True, slots=True)
class PostQueries:
    """The statements, compiled once for the app's dialect (in the lifespan)."""

    one: Query
    page: Query
    page_by_user: Query
    count: Query
    count_by_user: Query
    author: Query
    insert: Query

    @classmethod
    def compile(cls, dialect: Dialect) -> "PostQueries":
        by_user = Post.user_id == bindparam("user_id")
        return cls(
            one=compile_query(_with_author().where(Post.id == bindparam("post_id")), dialect),
            page=compile_query(_page(_total()), dialect),
            page_by_user=compile_query(_page(_count().where(by_user)).where(by_user), dialect),
            count=compile_query(_total(), dialect),
            count_by_user=compile_query(_count().where(by_user), dialect),
            author=compile_query(
                select(User.username, User.image_file).where(User.id == bindparam("user_id")),
                dialect,
            ),
            # INSERT … SELECT FROM users: the author's existence is checked by the same
            # statement that writes, so no transaction has to span two round trips.
            insert=compile_query(
                insert(Post)
                .from_select(
                    ["title", "content", "user_id", "date_posted"],
                    select(
                        bindparam("title", type_=Post.title.type),
                        bindparam("content", type_=Post.content.type),
                        User.id,
                        bindparam("date_posted", type_=Post.date_posted.type),
                    ).where(User.id == bindparam("user_id")),
                )
                .returning(Post.id, Post.date_posted),
                dialect,
            ),
        )


def _post(row: Row) -> dict[str, Any]:
    post_id, title, content, user_id, date_posted, username, image_file = row[:7]
    return {
        "id": post_id,
        "title": title,
        "content": content,
        "user_id": user_id,
        "date_posted": date_posted,
        "author": {"id": user_id, "username": username, "image_file": image_file},
    }


async def fetch_post(
    db: DirectDatabase, queries: PostQueries, post_id: int
) -> dict[str, Any] | None:
    rows = await db.fetch(queries.one, {"post_id": post_id})
    return _post(rows[0]) if rows else None


async def fetch_page(
    db: DirectDatabase,
    queries: PostQueries,
    *,
    skip: int,
    limit: int,
    user_id: int | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """One page, newest first, and the total; one statement unless the page is empty."""
    values: dict[str, Any] = {"skip": skip, "limit": limit, "user_id": user_id}
    by_user = user_id is not None
    rows = await db.fetch(queries.page_by_user if by_user else queries.page, values)
    if rows:
        return [_post(row) for row in rows], int(rows[0][7])
    count = await db.fetch(queries.count_by_user if by_user else queries.count, values)
    return [], int(count[0][0])


async def insert_post(
    db: DirectDatabase,
    queries: PostQueries,
    *,
    title: str,
    content: str,
    author_id: int,
    now: datetime,
) -> dict[str, Any] | None:
    """The new post with its author, or None if the author does not exist (any more)."""
    author = await db.fetch(queries.author, {"user_id": author_id})
    if not author:
        return None
    values = {"title": title, "content": content, "user_id": author_id, "date_posted": now}
    try:
        inserted = await db.fetch(queries.insert, values, write=True)
    except ConstraintViolationError:  # the author was deleted between the two statements
        return None
    if not inserted:
        return None
    post_id, date_posted = inserted[0]
    username, image_file = author[0]
    return _post((post_id, title, content, author_id, date_posted, username, image_file))
