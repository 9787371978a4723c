"""The comments' one-statement queries (the compiled road of fastblog.db): a page of a post's
comments, a new comment, and what a post page shows besides the post.

Comments are listed oldest first, a page at a time after a keyset cursor (created_at, id),
served by the index on (post_id, created_at, id). Only published posts whose time has come
have comments to list or take (fastblog.posts.queries.VISIBLE).
"""

from datetime import datetime
from typing import Any

from sqlalchemy import String, bindparam, exists, insert, literal_column, null, select, tuple_

from fastblog.accounts.models import User
from fastblog.comments.models import Comment
from fastblog.db import Database, Row, UTCDateTime
from fastblog.exceptions import NotFoundError
from fastblog.pagination import Keyset
from fastblog.posts.models import Post
from fastblog.posts.queries import AUTHOR_NOW, VISIBLE
from fastblog.posts.related import RELATED, Related, related_of, related_values

COLUMNS = (
    Comment.id,
    Comment.body,
    Comment.body_html,
    Comment.created_at,
    Comment.user_id,
    User.username.label("author_username"),
    User.image_file.label("author_image_file"),
)
OLDEST_FIRST = (Comment.created_at.asc(), Comment.id.asc())
ON_THE_POST = Comment.post_id == bindparam("post_id", type_=Post.id.type)
AFTER = tuple_(Comment.created_at, Comment.id) > tuple_(
    bindparam("after_at", type_=UTCDateTime()), bindparam("after_id", type_=Comment.id.type)
)


def _page(*where: Any) -> Any:
    return (
        select(*COLUMNS)
        .join(User, User.id == Comment.user_id)
        .where(ON_THE_POST, *where)
        .order_by(*OLDEST_FIRST)
        .limit(bindparam("limit"))
    )


def _readable_page(*where: Any) -> Any:
    return _page(*where).join(Post, Post.id == Comment.post_id).where(VISIBLE)


# A page of a post's comments, if readers may see the post; first page, or after a cursor.
PAGES = {False: _readable_page(), True: _readable_page(AFTER)}
READABLE = select(exists().where(Post.id == bindparam("post_id"), VISIBLE).label("readable"))


def _with_related(comments: Any) -> Any:
    """A post page's first comments and its neighbours in one statement: the comments' rows
    first (their types set the columns'), then fastblog.posts.related's, with NULL where a
    kind has no value."""
    page = comments.subquery("page")
    related = RELATED.subquery("related")
    return select(
        literal_column("'comment'", String).label("kind"),
        page.c.id,
        page.c.created_at.label("at"),
        page.c.body_html,
        page.c.user_id,
        page.c.author_username,
        page.c.author_image_file,
        null().label("title"),
        null().label("slug"),
    ).union_all(
        select(
            related.c.kind,
            related.c.id,
            related.c.published_at,
            null(),
            null(),
            null(),
            null(),
            related.c.title,
            related.c.slug,
        )
    )


# The post page (its visibility already checked): first page of comments, or after a cursor.
POST_PAGES = {False: _with_related(_page()), True: _with_related(_page(AFTER))}

INSERTED = ("body", "body_html", "created_at")
# INSERT … SELECT: the post is published and its time has come, the author exists and the
# token is current, all checked by the statement that writes. A trigger counts it on the post.
INSERT = (
    insert(Comment)
    .from_select(
        ["post_id", "user_id", *INSERTED],
        select(
            Post.id,
            User.id,
            *(bindparam(name, type_=Comment.__table__.c[name].type) for name in INSERTED),
        )
        .select_from(Post)
        .join(User, AUTHOR_NOW)
        .where(Post.id == bindparam("post_id"), VISIBLE),
    )
    .returning(Comment.id, Comment.created_at)
)


def comment_of(row: Row, *, at: str = "created_at") -> dict[str, Any]:
    """A row as CommentPublic reads it (author nested). The post page selects no `body`
    (it shows the HTML only)."""
    comment = {
        "id": row["id"],
        "body_html": row["body_html"],
        "created_at": row[at],
        "author": {
            "id": row["user_id"],
            "username": row["author_username"],
            "image_file": row["author_image_file"],
        },
    }
    if "body" in row:
        comment["body"] = row["body"]
    return comment


def _neighbour(row: Row) -> Row:
    """A row of the post page's statement that came from RELATED, in RELATED's shape."""
    names = ("kind", "id", "title", "slug")
    return {**{name: row[name] for name in names}, "published_at": row["at"]}


def _keyset_values(after: Keyset | None) -> dict[str, Any]:
    return {"after_at": after.at, "after_id": after.id} if after else {}


def _next(comments: list[dict[str, Any]], limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """A page fetched with one row more than it shows: whether there is another page."""
    if len(comments) <= limit:
        return comments, None
    shown = comments[:limit]
    return shown, Keyset.after(shown[-1], at="created_at").encode()


async def fetch_comments(
    db: Database, *, post_id: int, after: Keyset | None, limit: int, now: datetime
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the post's comments and the cursor of the next (None on the last); a
    NotFoundError when readers may not see the post. One statement unless the page is empty."""
    values = {"post_id": post_id, "now": now, "limit": limit + 1, **_keyset_values(after)}
    rows = await db.fetch(PAGES[after is not None], values)
    if not rows:
        readable = await db.fetch_one(READABLE, values)
        if readable is None or not readable["readable"]:
            raise NotFoundError("Post not found")
    return _next([comment_of(row) for row in rows], limit)


async def fetch_post_page(
    db: Database, post: Row, *, after: Keyset | None, limit: int
) -> tuple[Related, list[dict[str, Any]], str | None]:
    """For a published post's page: its neighbours and more by its author, a page of its
    comments and the cursor of the next; one statement."""
    values = {**related_values(post), "limit": limit + 1, **_keyset_values(after)}
    rows = await db.fetch(POST_PAGES[after is not None], values)
    comments = sorted(
        (comment_of(row, at="at") for row in rows if row["kind"] == "comment"),
        key=lambda comment: (comment["created_at"], comment["id"]),
    )
    related = related_of([_neighbour(row) for row in rows if row["kind"] != "comment"])
    shown, next_cursor = _next(comments, limit)
    return related, shown, next_cursor


async def insert_comment(
    db: Database, *, values: dict[str, Any], post_id: int, now: datetime
) -> Row | None:
    """The new comment's id and time, or None if the post cannot take comments (unknown, a
    draft, scheduled) or the author is gone or their token revoked. `values` holds body,
    body_html, created_at, user_id and auth_version."""
    rows = await db.write(INSERT, {**values, "post_id": post_id, "now": now})
    return rows[0] if rows else None
