from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Query, status
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.dependencies import OptionalTokenUserIdDep, TokenUserIdDep, forbidden
from fastblog.accounts.moderation import moderator
from fastblog.db import utcnow
from fastblog.dependencies import DatabaseDep, WriteSessionDep
from fastblog.params import MAX_ID
from fastblog.posts import service
from fastblog.posts.markdown import MAX_TAG_CHARS, InvalidTagError, normalize_tag
from fastblog.posts.models import Post
from fastblog.posts.queries import fetch_post, is_visible

PostId = Annotated[int, Path(ge=1, le=MAX_ID, description="The post's id.")]


def not_found() -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail="Post not found")


async def _post_or_404(session: AsyncSession, post_id: int, *, lock: bool = False) -> Post:
    post = await service.get_post(session, post_id, lock=lock)
    if post is None:
        raise not_found()
    return post


async def visible_post(db: DatabaseDep, post_id: int, viewer_id: int | None) -> dict[str, Any]:
    """The post (one compiled statement) if this viewer may read it: anyone, once it is
    published and its time has come; its author, always. Otherwise a 404, whatever the reason,
    so a draft's existence is not revealed."""
    post = await fetch_post(db, post_id, viewer_id=viewer_id)
    if post is None or (post["user_id"] != viewer_id and not is_visible(post, utcnow())):
        raise not_found()
    return post


async def get_post_or_404(
    db: DatabaseDep, post_id: PostId, viewer_id: OptionalTokenUserIdDep
) -> dict[str, Any]:
    """The post with its author, for whoever may read it (a draft: its author), or 404."""
    return await visible_post(db, post_id, viewer_id)


PostDep = Annotated[dict[str, Any], Depends(get_post_or_404)]


async def get_post_to_edit(
    user_id: TokenUserIdDep, db: DatabaseDep, post_id: PostId
) -> dict[str, Any]:
    """The post, for its author only: 401 without a valid token, then 404, then 403. Not
    locked: the edit renders its Markdown first, then locks the row to write."""
    post = await visible_post(db, post_id, user_id)
    if post["user_id"] != user_id:
        raise forbidden("Only the author can change this post")
    return post


PostToEditDep = Annotated[dict[str, Any], Depends(get_post_to_edit)]


async def get_post_for_write(session: WriteSessionDep, post_id: PostId) -> Post:
    """The same post, loaded (and locked) in the write transaction that will change it."""
    return await _post_or_404(session, post_id, lock=True)


PostForWriteDep = Annotated[Post, Depends(get_post_for_write)]


async def get_post_to_delete(
    user_id: TokenUserIdDep, post: PostForWriteDep, session: WriteSessionDep
) -> Post:
    """The post, for its author or a moderator (the role as it is now, whatever the token
    says): 401 without a valid token, then 404 (a draft, too, for anyone else), then 403."""
    if post.user_id != user_id:
        shown = {"status": post.status, "published_at": post.published_at}
        if not is_visible(shown, utcnow()):
            raise not_found()
        if await moderator(session, user_id) is None:
            raise forbidden("Only the author or a moderator can delete this post")
    return post


PostToDeleteDep = Annotated[Post, Depends(get_post_to_delete)]


TagFilter = Annotated[
    str | None,
    Query(
        max_length=4 * MAX_TAG_CHARS,
        description="Only posts with this tag (normalized as tags are: 'Machine Learning' is "
        "machine-learning).",
    ),
]


def tag_or_none(tag: str) -> str | None:
    """The tag as stored, or None for a text no tag can be (which matches no post)."""
    try:
        return normalize_tag(tag)
    except InvalidTagError:
        return None
