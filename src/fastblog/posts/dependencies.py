from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Query, Request, status
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.dependencies import TokenViewerDep
from fastblog.db import utcnow
from fastblog.dependencies import DatabaseDep, WriteSessionDep
from fastblog.params import MAX_ID
from fastblog.posts import service
from fastblog.posts.markdown import MAX_TAG_CHARS, InvalidTagError, normalize_tag
from fastblog.posts.models import Post
from fastblog.posts.permissions import check_delete, may_see
from fastblog.posts.queries import fetch_post
from fastblog.posts.tag_list_cache import TagListCache
from fastblog.posts.visibility import PostVisibility

PostId = Annotated[int, Path(ge=1, le=MAX_ID, description="The post's id.")]


def not_found() -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail="Post not found")


async def _post_or_404(session: AsyncSession, post_id: int, *, lock: bool = False) -> Post:
    post = await service.get_post(session, post_id, lock=lock)
    if post is None:
        raise not_found()
    return post


async def visible_post(
    db: DatabaseDep, post_id: int, viewer_id: int | None, role: str | None = None
) -> dict[str, Any]:
    """The post (one compiled statement) if this viewer may read it: anyone, once it is
    published and its time has come; its author and editors (`role`), always. Otherwise a
    404, whatever the reason, so a draft's existence is not revealed."""
    post = await fetch_post(db, post_id, viewer_id=viewer_id)
    if post is None or not may_see(post, viewer_id, role, utcnow()):
        raise not_found()
    return post


async def get_post_to_edit(
    viewer: TokenViewerDep, db: DatabaseDep, post_id: PostId
) -> dict[str, Any]:
    """The post, for its author or an editor: 401 without a valid token, then 404, then 403
    (fastblog.posts.permissions.check_edit, once the route knows the status asked for). Not
    locked: the edit renders its Markdown first, then locks the row to write."""
    return await visible_post(db, post_id, viewer.id, viewer.role)


PostToEditDep = Annotated[dict[str, Any], Depends(get_post_to_edit)]


async def get_post_for_write(session: WriteSessionDep, post_id: PostId) -> Post:
    """The same post, loaded (and locked) in the write transaction that will change it."""
    return await _post_or_404(session, post_id, lock=True)


PostForWriteDep = Annotated[Post, Depends(get_post_for_write)]


def check_post_delete(post: Post, *, user_id: int, role: str) -> Post:
    """401 before this; then 404 for a post the user may not see (a draft not theirs), then
    403 unless it is theirs or they are an editor (the role as it is now)."""
    shown = {"status": post.status, "published_at": post.published_at, "user_id": post.user_id}
    if not may_see(shown, user_id, role, utcnow()):
        raise not_found()
    check_delete(author_id=post.user_id, user_id=user_id, role=role)
    return post


async def get_post_to_delete(viewer: TokenViewerDep, post: PostForWriteDep) -> Post:
    """The post, for its author or an editor (the role as it is now, whatever the token
    says): 401 without a valid token, then 404 (a draft, too, for anyone else), then 403."""
    return check_post_delete(post, user_id=viewer.id, role=viewer.role)


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


async def get_post_visibility(request: Request) -> PostVisibility:
    """The process's watcher of posts becoming visible (made by the lifespan)."""
    visibility: PostVisibility = request.state.post_visibility
    return visibility


PostVisibilityDep = Annotated[PostVisibility, Depends(get_post_visibility)]


def tag_list_cache_of(request: Request) -> TagListCache:
    """The process's kept tag lists (made by the lifespan), read from the request as
    resources_of reads the resources: no dependency node to solve on each request."""
    cache: TagListCache = request.state.tag_list_cache
    return cache
