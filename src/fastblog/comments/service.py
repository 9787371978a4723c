"""Writing comments: rendering first (before any transaction), then one INSERT … SELECT,
approved or waiting (fastblog.comments.policy); deleting one, by its author, the post's
author or an editor (or above); approving or rejecting a waiting one (editors and up)."""

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
from fastblog.comments.models import APPROVED, PENDING, Comment
from fastblog.comments.policy import CommentPolicy, ensure_open, moderates, must_wait
from fastblog.db import FOR_UPDATE, Database, utcnow
from fastblog.exceptions import ForbiddenError, NotAuthenticatedError, NotFoundError
from fastblog.markup import count_links
from fastblog.posts.models import Post
from fastblog.posts.queries import is_visible
from fastblog.posts.service import INLINE_RENDER_MAX_CHARS

MODERATORS_ONLY = "Only an editor, an admin or the owner can approve or reject comments."
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
    policy: CommentPolicy,
) -> dict[str, Any]:
    """The new comment as the API shows it, approved or waiting as `policy` and the author's
    role and history say. ForbiddenError when the site or the post takes no comments;
    NotAuthenticatedError when the author is gone (or the token revoked); NotFoundError when
    the post cannot be read (unknown, a draft, scheduled)."""
    # Write rate limit (comments, 10 a minute): the routes wrap this call in
    # limiter.accepting(COMMENTS, ...), which counts only a comment that was accepted.
    ensure_open(policy)
    author = await queries.fetch_commenter(
        db, user_id=author_id, auth_version=auth_version, post_id=post_id, now=now
    )
    if author is None:
        raise NotAuthenticatedError(GONE)
    if author["post_open"] is None:
        raise NotFoundError("Post not found")
    ensure_open(policy, post_open=bool(author["post_open"]))
    body_html = await render_body(pool, body)
    waits = must_wait(
        policy,
        role=author["role"],
        has_approved=bool(author["has_approved"]),
        links=count_links(body_html),
    )
    values = {
        "body": body,
        "body_html": body_html,
        "created_at": now,
        "status": PENDING if waits else APPROVED,
        "user_id": author_id,
        "auth_version": auth_version,
    }
    inserted = await queries.insert_comment(db, values=values, post_id=post_id, now=now)
    if inserted is None:  # unpublished or closed since the read above
        raise NotFoundError("Post not found")
    return {
        **values,
        **inserted,
        "author": {
            "id": author_id,
            "username": author["username"],
            "image_file": author["image_file"],
        },
    }


async def _moderator(session: AsyncSession, user_id: int, auth_version: int) -> User:
    """The requester, in the transaction, if they may moderate: 401, then 403."""
    requester = await session.get(User, user_id)
    if requester is None or requester.auth_version != auth_version:
        raise NotAuthenticatedError(GONE)
    if not moderates(requester.role):
        raise ForbiddenError(
            "Only an editor, an admin or the owner can approve or reject comments."
        )
    return requester


async def approve_comment(
    db: Database, *, comment_id: int, requester_id: int, auth_version: int
) -> dict[str, Any]:
    """Approve a waiting comment (an approved one stays so): it shows to everyone and counts
    on its post (a trigger). The comment as the API shows it, with its post_id."""
    async with db.transaction() as session:
        await _moderator(session, requester_id, auth_version)
        found = await session.get(Comment, comment_id, with_for_update=FOR_UPDATE)
        if found is None:
            raise NotFoundError("Comment not found")
        found.status = APPROVED
        await session.commit()
    approved = await queries.fetch_one_comment(db, comment_id=comment_id)
    if approved is None:  # deleted just after
        raise NotFoundError("Comment not found")
    return approved


async def reject_comment(
    db: Database, *, comment_id: int, requester_id: int, auth_version: int
) -> None:
    """Delete a comment as a moderator (from the queue: rejecting a waiting one), logged
    when it is not theirs."""
    async with db.transaction() as session:
        requester = await _moderator(session, requester_id, auth_version)
        found = (await session.execute(TO_REJECT, {"comment_id": comment_id})).one_or_none()
        if found is None:
            raise NotFoundError("Comment not found")
        await session.execute(delete(Comment).where(Comment.id == comment_id))
        await session.commit()
    if found.user_id != requester_id:
        log_deletion(
            requester,
            kind="comment",
            item_id=comment_id,
            author_id=found.user_id,
            author=found.username,
        )


TO_REJECT = (
    select(Comment.user_id, User.username)
    .join(User, User.id == Comment.user_id)
    .where(Comment.id == bindparam("comment_id"))
)


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
