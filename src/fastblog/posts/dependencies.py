from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, status
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.dependencies import TokenUserIdDep, forbidden
from fastblog.dependencies import DatabaseDep, WriteSessionDep
from fastblog.params import MAX_ID
from fastblog.posts import service
from fastblog.posts.models import Post
from fastblog.posts.queries import fetch_post

PostId = Annotated[int, Path(ge=1, le=MAX_ID, description="The post's id.")]


async def _post_or_404(session: AsyncSession, post_id: int, *, lock: bool = False) -> Post:
    post = await service.get_post(session, post_id, lock=lock)
    if post is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Post not found")
    return post


async def get_post_or_404(db: DatabaseDep, post_id: PostId) -> dict[str, Any]:
    """The post with its author (one compiled statement), or 404."""
    post = await fetch_post(db, post_id)
    if post is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Post not found")
    return post


PostDep = Annotated[dict[str, Any], Depends(get_post_or_404)]


async def get_post_for_write(session: WriteSessionDep, post_id: PostId) -> Post:
    """The same post, loaded (and locked) in the write transaction that will change it."""
    return await _post_or_404(session, post_id, lock=True)


PostForWriteDep = Annotated[Post, Depends(get_post_for_write)]


async def get_owned_post(user_id: TokenUserIdDep, post: PostForWriteDep) -> Post:
    """The post, for its author only: 401 without a valid token, then 404, then 403."""
    if post.user_id != user_id:
        raise forbidden("Only the author can change this post")
    return post


OwnedPostDep = Annotated[Post, Depends(get_owned_post)]
