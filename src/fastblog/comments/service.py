"""Writing comments: rendering first (before any transaction), then one INSERT … SELECT;
deleting one, by its author, the post's author or an editor (or above)."""

import asyncio
from concurrent.futures import Executor
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from fastblog.accounts.models import User
from fastblog.accounts.moderation import log_deletion
from fastblog.accounts.roles import Role
from fastblog.comments import queries
from fastblog.comments.markdown import render_comment
from fastblog.comments.models import Comment
from fastblog.db import Database, utcnow
from fastblog.exceptions import ForbiddenError, NotAuthenticatedError, NotFoundError
from fastblog.posts.models import Post
from fastblog.posts.queries import AUTHOR, is_visible
from fastblog.posts.service import INLINE_RENDER_MAX_CHARS

GONE = "Your account no longer exists, or you logged out everywhere"


async def render_body(pool: Executor, body: str) -> str:
    # As for posts (fastblog.posts.service.INLINE_RENDER_MAX_CHARS): a short comment renders
    # inline (well under a millisecond); a long one takes up to ~10 ms of CPU, so it goes to
    # the process pool rather than stall every other request.
    if len(body) <= INLINE_RENDER_MAX_CHARS:
        return render_comment(body)
    return await asyncio.get_running_loop().run_in_executor(pool, render_comment, body)


async def create_comment(
    db: Database,
    pool: Executor,
    *,
    post_id: int,
    body: str,
    author_id: int,
    auth_version: int,
    now: datetime,
) -> dict[str, Any]:
    """The new comment as the API shows it. NotAuthenticatedError when the author is gone
    (or the token revoked); NotFoundError when the post takes no comments (unknown, a draft,
    scheduled)."""
    # Write rate limit (comments, 10 a minute): the routes wrap this call in
    # limiter.accepting(COMMENTS, ...), which counts only a comment that was accepted.
    author = await db.fetch_one(AUTHOR, {"user_id": author_id, "auth_version": auth_version})
    if author is None:
        raise NotAuthenticatedError(GONE)
    values = {
        "body": body,
        "body_html": await render_body(pool, body),
        "created_at": now,
        "user_id": author_id,
        "auth_version": auth_version,
    }
    inserted = await queries.insert_comment(db, values=values, post_id=post_id, now=now)
    if inserted is None:
        raise NotFoundError("Post not found")
    return {
        **values,
        **inserted,
        "author": {"id": author_id, "username": author["username"], **author},
    }


Commenter = aliased(User)
# The post, the comment if it is on that post (an outer join), and who wrote each: what the
# authorization needs, and the moderation log.
TO_DELETE = (
    select(
        Post.user_id.label("post_author_id"),
        Post.status,
        Post.published_at,
        Comment.id.label("comment_id"),
        Comment.user_id.label("comment_author_id"),
        Commenter.username.label("comment_author"),
        Comment.body_html,
    )
    .select_from(Post)
    .outerjoin(Comment, (Comment.post_id == Post.id) & (Comment.id == bindparam("comment_id")))
    .outerjoin(Commenter, Commenter.id == Comment.user_id)
    .where(Post.id == bindparam("post_id"))
)


async def _deletable(
    session: AsyncSession, *, post_id: int, comment_id: int, requester_id: int, auth_version: int
) -> tuple[User, Any, bool]:  # the row: TO_DELETE's columns
    """The requester, the comment (TO_DELETE's row) and whether the requester wrote it or
    the post; 401, then 404 (an unknown post, a draft not theirs, a comment not on this
    post), then 403, as DomainErrors."""
    requester = await session.get(User, requester_id)
    if requester is None or requester.auth_version != auth_version:
        raise NotAuthenticatedError(GONE)
    ids = {"post_id": post_id, "comment_id": comment_id}
    found = (await session.execute(TO_DELETE, ids)).one_or_none()
    if found is None or (
        found.post_author_id != requester_id and not is_visible(found._asdict(), utcnow())
    ):
        raise NotFoundError("Post not found")
    if found.comment_id is None:
        raise NotFoundError("Comment not found on this post")
    by_an_author = requester_id in (found.comment_author_id, found.post_author_id)
    if not by_an_author and not requester.at_least(Role.EDITOR):
        raise ForbiddenError(
            "Only the comment's author, the post's author or an editor can delete it"
        )
    return requester, found, by_an_author


async def comment_to_delete(
    db: Database, *, post_id: int, comment_id: int, requester_id: int, auth_version: int
) -> dict[str, Any]:
    """The comment, for the page that asks before deleting it (refused as delete_comment
    would refuse)."""
    async with db.session() as session:
        _, found, _ = await _deletable(
            session,
            post_id=post_id,
            comment_id=comment_id,
            requester_id=requester_id,
            auth_version=auth_version,
        )
    return {
        "id": found.comment_id,
        "post_id": post_id,
        "author": found.comment_author,
        "body_html": found.body_html,
    }


async def delete_comment(
    db: Database, *, post_id: int, comment_id: int, requester_id: int, auth_version: int
) -> None:
    """Delete the comment if the requester wrote it or the post, or is an editor (whose
    deletion of someone else's comment is logged). Refused as _deletable says."""
    async with db.transaction() as session:
        requester, found, by_an_author = await _deletable(
            session,
            post_id=post_id,
            comment_id=comment_id,
            requester_id=requester_id,
            auth_version=auth_version,
        )
        await session.execute(delete(Comment).where(Comment.id == comment_id))
        await session.commit()
    if not by_an_author:
        log_deletion(
            requester,
            kind="comment",
            item_id=comment_id,
            author_id=found.comment_author_id,
            author=found.comment_author,
        )
