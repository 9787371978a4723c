"""Likes and the feed, in JSON."""

from typing import Any

from fastapi import status

from fastblog.accounts.api import E401_IF_SENT
from fastblog.accounts.api import E404 as USER_NOT_FOUND
from fastblog.accounts.dependencies import OptionalTokenUserIdDep, TokenUserIdDep, UserId
from fastblog.accounts.schemas import UserProfile
from fastblog.db import utcnow
from fastblog.dependencies import DatabaseDep, KeysetDep, WriteLimiterDep
from fastblog.exceptions import NotFoundError
from fastblog.params import UNAVAILABLE, Limit, Responses, error
from fastblog.posts import likes
from fastblog.posts.api import E401, E429
from fastblog.posts.dependencies import PostId
from fastblog.posts.feed import fetch_feed, fetch_profile
from fastblog.posts.schemas import FeedPage, LikeState
from fastblog.routing import api_router
from fastblog.write_limits import LIKES

router = api_router(prefix="/api/posts", tags=["posts"], responses=UNAVAILABLE)
feed_router = api_router(prefix="/api/feed", tags=["posts"], responses=UNAVAILABLE)
# A profile lives with the posts, like a user's posts: it counts them.
profile_router = api_router(prefix="/api/users", tags=["users"], responses=UNAVAILABLE)

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


@profile_router.get(
    "/{user_id}", response_model=UserProfile, responses=E401_IF_SENT | USER_NOT_FOUND
)
async def get_user(
    user_id: UserId, db: DatabaseDep, viewer_id: OptionalTokenUserIdDep
) -> dict[str, Any]:
    """A user's public profile (never the email), with follower, following and post counts."""
    profile = await fetch_profile(db, user_id, viewer_id=viewer_id, now=utcnow())
    if profile is None:
        raise NotFoundError("User not found")
    return profile
