"""The notifications' one-statement queries (the compiled road of fastblog.db): a page of a
user's notifications, newest first, with who did it and on what; marking them read; the
unread count, which is a column of the user (kept by triggers, never counted).

A page is ordered by id alone: a notification's id is the order it arrived in (a comment
approved today notifies today, whenever it was written), and (recipient_id, id) is the index.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import aliased

from fastblog.accounts.models import User
from fastblog.comments.models import Comment
from fastblog.db import Database, Row
from fastblog.notifications.models import Notification
from fastblog.pagination import MAX_CURSOR_ID, encode_id_cursor
from fastblog.posts.models import Post

EXCERPT_CHARS = 200

Actor = aliased(User)
ME = bindparam("user_id", type_=Notification.recipient_id.type)
BEFORE = bindparam("before_id", type_=Notification.id.type)

LISTED = (
    select(
        Notification.id,
        Notification.kind,
        Notification.created_at,
        Notification.read_at,
        Actor.id.label("actor_id"),
        Actor.username.label("actor_username"),
        Actor.image_file.label("actor_image_file"),
        Post.id.label("post_id"),
        Post.title.label("post_title"),
        Post.slug.label("post_slug"),
        Comment.id.label("comment_id"),
        # One character more than shown: enough to know whether it was cut.
        func.substr(Comment.body, 1, EXCERPT_CHARS + 1).label("comment_body"),
    )
    .select_from(Notification)
    .join(Actor, Actor.id == Notification.actor_id)
    .outerjoin(Post, Post.id == Notification.post_id)
    .outerjoin(Comment, Comment.id == Notification.comment_id)
)
PAGE = (
    LISTED.where(Notification.recipient_id == ME, Notification.id < BEFORE)
    .order_by(Notification.id.desc())
    .limit(bindparam("limit"))
)
# Those a digest mail tells about, oldest first.
BY_IDS = LISTED.where(Notification.id.in_(bindparam("ids", expanding=True))).order_by(
    Notification.id
)

# Read: all of them, or those up to an id (the newest one a page showed, so that one that
# arrived since stays unread). The trigger moves users.unread_notifications.
MARK_READ = (
    update(Notification)
    .where(
        Notification.recipient_id == ME,
        Notification.read_at.is_(None),
        Notification.id <= bindparam("up_to", type_=Notification.id.type),
    )
    .values(read_at=bindparam("now", type_=Notification.read_at.type))
)
UNREAD = select(User.unread_notifications.label("unread")).where(User.id == ME)


def excerpt(body: str | None) -> str | None:
    if body is None:
        return None
    return body if len(body) <= EXCERPT_CHARS else body[: EXCERPT_CHARS - 1].rstrip() + "…"


def shaped(row: Row) -> dict[str, Any]:
    """A row of PAGE as NotificationPublic reads it."""
    post = None
    if row["post_id"] is not None:
        post = {"id": row["post_id"], "title": row["post_title"], "slug": row["post_slug"]}
    comment = None
    if row["comment_id"] is not None:
        comment = {"id": row["comment_id"], "excerpt": excerpt(row["comment_body"])}
    return {
        "id": row["id"],
        "kind": row["kind"],
        "created_at": row["created_at"],
        "read": row["read_at"] is not None,
        "actor": {
            "id": row["actor_id"],
            "username": row["actor_username"],
            "image_file": row["actor_image_file"],
        },
        "post": post,
        "comment": comment,
    }


async def fetch_page(
    db: Database, *, user_id: int, before: int | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """Up to `limit` notifications older than the id `before` (None: the newest), and the
    cursor of the next page (None on the last)."""
    values = {"user_id": user_id, "before_id": before or MAX_CURSOR_ID, "limit": limit + 1}
    rows = await db.fetch(PAGE, values)
    shown = [shaped(row) for row in rows[:limit]]
    next_cursor = encode_id_cursor(shown[-1]["id"]) if len(rows) > limit else None
    return shown, next_cursor


async def unread_count(db: Database, *, user_id: int) -> int:
    row = await db.fetch_one(UNREAD, {"user_id": user_id})
    return int(row["unread"]) if row else 0


async def mark_read(db: Database, *, user_id: int, up_to: int | None, now: datetime) -> int:
    """Mark the user's notifications read (all, or those up to the id `up_to`); the unread
    count after."""
    values = {"user_id": user_id, "up_to": up_to or MAX_CURSOR_ID, "now": now}
    await db.write(MARK_READ, values)
    return await unread_count(db, user_id=user_id)
