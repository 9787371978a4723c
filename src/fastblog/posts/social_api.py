"""Likes and the feed, in JSON."""

from typing import Any

from fastapi import APIRouter, status

from fastblog.accounts.dependencies import TokenUserIdDep
from fastblog.db import utcnow
from fastblog.dependencies import DatabaseDep, KeysetDep, WriteLimiterDep
from fastblog.params import UNAVAILABLE, Limit, Responses, error
from fastblog.posts import likes
from fastblog.posts.api import E401, E429
from fastblog.posts.dependencies import PostId
from fastblog.posts.feed import fetch_feed
from fastblog.posts.schemas import FeedPage, LikeState
from fastblog.write_limits import LIKES

router = APIRouter(prefix="/api/posts", tags=["posts"], responses=UNAVAILABLE)
feed_router = APIRouter(prefix="/api/feed", tags=["posts"], responses=UNAVAILABLE)

E404: Responses = {status.HTTP_404_NOT_FOUND: error("Post not found (or not published)")}


@router.post("/{post_id}/like", response_model=LikeState, responses=E401 | E404 | E429)
async def like_post(
    post_id: PostId, user_id: TokenUserIdDep, db: DatabaseDep, limiter: WriteLimiterDep
) -> dict[str, Any]:
    """Like a published post; liking it again changes nothing."""
    async with limiter.accepting(LIKES, user_id):
        return await likes.like(db, post_id=post_id, user_id=user_id, now=utcnow())


@router.delete("/{post_id}/like", response_model=LikeState, responses=E401 | E404 | E429)
async def unlike_post(
    post_id: PostId, user_id: TokenUserIdDep, db: DatabaseDep, limiter: WriteLimiterDep
) -> dict[str, Any]:
    """Take your like back; nothing changes if you did not like it."""
    async with limiter.accepting(LIKES, user_id):
        return await likes.unlike(db, post_id=post_id, user_id=user_id, now=utcnow())


@feed_router.get("", response_model=FeedPage, responses=E401)
async def feed(
    user_id: TokenUserIdDep, db: DatabaseDep, cursor: KeysetDep, limit: Limit = 10
) -> dict[str, Any]:
    """The published posts of the authors you follow, newest first; `next_cursor` pages on."""
    posts, next_cursor = await fetch_feed(
        db, viewer_id=user_id, now=utcnow(), limit=limit, cursor=cursor
    )
    return {
        "posts": posts,
        "limit": limit,
        "has_more": next_cursor is not None,
        "next_cursor": next_cursor,
    }
