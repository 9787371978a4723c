"""The comments' one-statement queries (the compiled road of fastblog.db): a page of a post's
comments, a new comment, and what a post page shows besides the post.

Comments are listed oldest first, a page at a time after a keyset cursor (created_at, id),
served by the index on (post_id, created_at, id). Only published posts whose time has come
have comments to list or take (fastblog.posts.queries.VISIBLE).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    String,
    bindparam,
    exists,
    func,
    insert,
    literal_column,
    null,
    or_,
    select,
    tuple_,
)

from fastblog.accounts.models import User
from fastblog.comments.models import APPROVED, PENDING, Comment
from fastblog.comments.policy import moderates
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
    Comment.status,
    # A remote author's stand-in account (fastblog.federation) keeps their display name as its
    # bio and their profile's address as its website: the comment shows both.
    User.bio.label("author_bio"),
    User.website.label("author_website"),
)
OLDEST_FIRST = (Comment.created_at.asc(), Comment.id.asc())
ON_THE_POST = Comment.post_id == bindparam("post_id", type_=Post.id.type)
AFTER = tuple_(Comment.created_at, Comment.id) > tuple_(
    bindparam("after_at", type_=UTCDateTime()), bindparam("after_id", type_=Comment.id.type)
)

# What a reader sees: approved comments, their own waiting ones (`viewer_id`; None matches
# nothing), and every comment when they moderate (`sees_all`).
SEEN = or_(
    Comment.status == APPROVED,
    Comment.user_id == bindparam("viewer_id", None, type_=Comment.user_id.type),
    bindparam("sees_all", False, type_=Boolean()),
)


# The three builders below run once, at import, before mutmut chooses a mutant: their
# mutants are tools/query_mutants.py's (as the module-level statements'), not mutmut's.
def _page(*where: Any) -> Any:  # pragma: no mutate block
    return (
        select(*COLUMNS)
        .join(User, User.id == Comment.user_id)
        .where(ON_THE_POST, SEEN, *where)
        .order_by(*OLDEST_FIRST)
        .limit(bindparam("limit"))
    )


def _readable_page(*where: Any) -> Any:  # pragma: no mutate block
    return _page(*where).join(Post, Post.id == Comment.post_id).where(VISIBLE)


# A page of a post's comments, if readers may see the post; first page, or after a cursor.
PAGES = {False: _readable_page(), True: _readable_page(AFTER)}
READABLE = select(exists().where(Post.id == bindparam("post_id"), VISIBLE).label("readable"))


def _with_related(comments: Any) -> Any:  # pragma: no mutate block
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
        page.c.status,
        page.c.author_bio,
        page.c.author_website,
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
            null(),
            null(),
            null(),
            related.c.title,
            related.c.slug,
        )
    )


# The post page (its visibility already checked): first page of comments, or after a cursor.
POST_PAGES = {False: _with_related(_page()), True: _with_related(_page(AFTER))}

INSERTED = ("body", "body_html", "created_at", "status")
# INSERT … SELECT: the post is published, its time has come and it takes comments, the author
# exists and the token is current, all checked by the statement that writes. A trigger counts
# it on the post once it is approved.
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
        .where(Post.id == bindparam("post_id"), VISIBLE, Post.comments_enabled),
    )
    .returning(Comment.id, Comment.created_at)
)

# Before a comment is written: its author as the token names them, their role, whether one
# of their comments was approved, and whether the post takes comments (NULL: readers may
# not see it).
COMMENTER = select(
    User.username,
    User.image_file,
    User.role,
    exists().where(Comment.user_id == User.id, Comment.status == APPROVED).label("has_approved"),
    select(Post.comments_enabled)
    .where(Post.id == bindparam("post_id"), VISIBLE)
    .scalar_subquery()
    .label("post_open"),
).where(AUTHOR_NOW)

# The moderation queue: waiting comments on any post, oldest first, each with its post. The
# status is written into the SQL, not bound, so a plan made without the values (PostgreSQL's
# generic plan of a prepared statement) still sees that the partial index on (created_at, id)
# WHERE status = 'pending' applies.
WAITING = Comment.status == literal_column(f"'{PENDING}'")
PENDING_COLUMNS = (*COLUMNS, Comment.post_id, Post.title.label("post_title"), Post.slug)
_QUEUE = (
    select(*PENDING_COLUMNS)
    .join(User, User.id == Comment.user_id)
    .join(Post, Post.id == Comment.post_id)
    .where(WAITING)
    .order_by(*OLDEST_FIRST)
    .limit(bindparam("limit"))
)
PENDING_PAGES = {False: _QUEUE, True: _QUEUE.where(AFTER)}
# One comment with its author and post id (after an approval).
ONE = (
    select(*COLUMNS, Comment.post_id)
    .join(User, User.id == Comment.user_id)
    .where(Comment.id == bindparam("comment_id"))
)
# How many comments wait (the admin page's heading).
PENDING_COUNT = select(func.count().label("waiting")).where(WAITING)


def comment_of(row: Row, *, at: str = "created_at") -> dict[str, Any]:
    """A row as CommentPublic reads it (author nested). The post page selects no `body`
    (it shows the HTML only)."""
    comment = {
        "id": row["id"],
        "body_html": row["body_html"],
        "created_at": row[at],
        "status": row["status"],
        "author": {
            "id": row["user_id"],
            "username": row["author_username"],
            "image_file": row["author_image_file"],
            "bio": row.get("author_bio"),
            "website": row.get("author_website"),
        },
    }
    for name in ("body", "post_id", "post_title", "slug"):
        if name in row:
            comment[name] = row[name]
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


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who reads a post's comments: their own waiting comments show (`user_id`), and all
    waiting comments to a moderator (`sees_all`)."""

    user_id: int | None = None
    sees_all: bool = False

    def values(self) -> dict[str, Any]:
        return {"viewer_id": self.user_id, "sees_all": self.sees_all}


ANYONE = Viewer()


async def fetch_comments(
    db: Database,
    *,
    post_id: int,
    after: Keyset | None,
    limit: int,
    now: datetime,
    viewer: Viewer = ANYONE,
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the post's comments that `viewer` may see and the cursor of the next (None
    on the last); a NotFoundError when readers may not see the post. One statement unless the
    page is empty."""
    values = {
        "post_id": post_id,
        "now": now,
        "limit": limit + 1,
        **viewer.values(),
        **_keyset_values(after),
    }
    rows = await db.fetch(PAGES[after is not None], values)
    if not rows:
        readable = await db.fetch_one(READABLE, values)
        if readable is None or not readable["readable"]:
            raise NotFoundError("Post not found")
    return _next([comment_of(row) for row in rows], limit)


async def fetch_post_page(
    db: Database, post: Row, *, after: Keyset | None, limit: int, viewer: Viewer = ANYONE
) -> tuple[Related, list[dict[str, Any]], str | None]:
    """For a published post's page: its neighbours and more by its author, a page of the
    comments `viewer` may see and the cursor of the next; one statement."""
    values = {
        **related_values(post),
        "limit": limit + 1,
        **viewer.values(),
        **_keyset_values(after),
    }
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


async def fetch_commenter(
    db: Database, *, user_id: int, auth_version: int, post_id: int, now: datetime
) -> Row | None:
    """The author of a new comment (None if gone or the token revoked): username,
    image_file, role, has_approved and post_open (None when readers may not see the post)."""
    values = {"user_id": user_id, "auth_version": auth_version, "post_id": post_id, "now": now}
    return await db.fetch_one(COMMENTER, values)


async def fetch_pending(
    db: Database, *, after: Keyset | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the comments waiting for approval, oldest first, each with its post."""
    values = {"limit": limit + 1, **_keyset_values(after)}
    rows = await db.fetch(PENDING_PAGES[after is not None], values)
    return _next([comment_of(row) for row in rows], limit)


async def count_pending(db: Database) -> int:
    row = await db.fetch_one(PENDING_COUNT, {})
    return int(row["waiting"]) if row else 0


async def fetch_one_comment(db: Database, *, comment_id: int) -> dict[str, Any] | None:
    row = await db.fetch_one(ONE, {"comment_id": comment_id})
    return comment_of(row) if row else None


VIEWER = select(User.role).where(AUTHOR_NOW)


async def fetch_viewer(db: Database, *, user_id: int, auth_version: int) -> Viewer | None:
    """Who a current token names, as a reader of comments; None if gone or revoked (one
    indexed read, which also checks the token, as fastblog.accounts' token check does)."""
    row = await db.fetch_one(VIEWER, {"user_id": user_id, "auth_version": auth_version})
    if row is None:
        return None
    return Viewer(user_id=user_id, sees_all=moderates(row["role"]))
