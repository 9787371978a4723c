"""Likes: one statement to like or unlike, one to read the count back (the compiled road).

Liking twice is one like (INSERT … ON CONFLICT DO NOTHING); unliking what you do not like
changes nothing. The post's like_count is kept by triggers on post_likes in the write's own
statement, so it moves only when a row was really added or removed, and never drifts.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, exists, select
from sqlalchemy.dialects import postgresql

from fastblog.db import ConstraintViolationError, Database
from fastblog.exceptions import NotAuthenticatedError, NotFoundError
from fastblog.posts.models import Post, PostLike
from fastblog.posts.queries import NOW, VISIBLE

THE_POST = Post.id == bindparam("post_id", type_=Post.id.type)
USER = bindparam("user_id", type_=PostLike.user_id.type)

# Only a post readers can see may be liked: the SELECT finds no row otherwise. (PostgreSQL's
# insert construct; SQLite compiles its ON CONFLICT DO NOTHING the same way.)
LIKE = (
    postgresql.insert(PostLike)
    .from_select(
        ["post_id", "user_id", "created_at"],
        select(Post.id, USER, NOW).where(THE_POST, VISIBLE),
    )
    .on_conflict_do_nothing(index_elements=["post_id", "user_id"])
)
UNLIKE = delete(PostLike).where(
    PostLike.post_id == bindparam("post_id", type_=PostLike.post_id.type),
    PostLike.user_id == USER,
    exists().where(THE_POST, VISIBLE),
)
# The count after the write, and whether the post is one readers see (else: 404); the slug
# for the page a like button returns to.
COUNT = select(Post.like_count.label("likes"), Post.slug, VISIBLE.label("visible")).where(THE_POST)


async def _count(db: Database, values: dict[str, Any]) -> dict[str, Any]:
    row = await db.fetch_one(COUNT, values)
    if row is None or not row["visible"]:
        raise NotFoundError("Post not found")
    return {"likes": int(row["likes"]), "slug": row["slug"]}


async def like(db: Database, *, post_id: int, user_id: int, now: datetime) -> dict[str, Any]:
    """`{"liked": True, "likes": N, "slug": ...}`; NotFoundError for a post readers cannot
    see."""
    values = {"post_id": post_id, "user_id": user_id, "now": now}
    try:
        await db.write(LIKE, values)
    except ConstraintViolationError:  # the user was deleted since their token was checked
        raise NotAuthenticatedError("Your account no longer exists.") from None
    return {"liked": True, **await _count(db, values)}


async def unlike(db: Database, *, post_id: int, user_id: int, now: datetime) -> dict[str, Any]:
    """`{"liked": False, "likes": N, "slug": ...}`; NotFoundError for a post readers cannot
    see."""
    values = {"post_id": post_id, "user_id": user_id, "now": now}
    await db.write(UNLIKE, values)
    return {"liked": False, **await _count(db, values)}
