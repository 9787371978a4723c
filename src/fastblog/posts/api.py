from typing import Any

from fastapi import APIRouter, Response, status

from fastblog.accounts.api import E404 as USER_NOT_FOUND
from fastblog.accounts.dependencies import TokenClaimsDep, UserDep, unauthorized
from fastblog.db import utcnow
from fastblog.dependencies import DatabaseDep, WriteSessionDep
from fastblog.params import TOO_LARGE, UNAVAILABLE, Limit, Responses, Skip, error
from fastblog.posts import service
from fastblog.posts.dependencies import OwnedPostDep, PostDep
from fastblog.posts.queries import fetch_page, insert_post
from fastblog.posts.schemas import (
    PostCreate,
    PostPage,
    PostPublic,
    PostReplace,
    PostUpdate,
    page_of,
)

router = APIRouter(prefix="/api/posts", tags=["posts"], responses=UNAVAILABLE)
# A user's posts live with the posts: accounts know nothing of posts.
by_user_router = APIRouter(prefix="/api/users", tags=["users"], responses=UNAVAILABLE)

E401: Responses = {status.HTTP_401_UNAUTHORIZED: error("Missing, invalid or expired token")}
E403: Responses = {status.HTTP_403_FORBIDDEN: error("Only the author may do this")}
E404: Responses = {status.HTTP_404_NOT_FOUND: error("Post not found")}
OWNER_ONLY: Responses = E401 | E403 | E404


@router.get("", response_model=PostPage)
async def list_posts(db: DatabaseDep, skip: Skip = 0, limit: Limit = 10) -> dict[str, Any]:
    """List posts, newest first, one page at a time."""
    posts, total = await fetch_page(db, skip=skip, limit=limit)
    return page_of(posts, total=total, skip=skip, limit=limit)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PostPublic,
    responses=E401 | TOO_LARGE,
)
async def create_post(data: PostCreate, token: TokenClaimsDep, db: DatabaseDep) -> dict[str, Any]:
    """Publish a post as the logged-in user."""
    post = await insert_post(
        db,
        title=data.title,
        content=data.content,
        author_id=token.user_id,
        auth_version=token.auth_version,  # checked by the INSERT itself: no extra read
        now=utcnow(),
    )
    if post is None:  # the token's account was deleted, or the token revoked
        raise unauthorized("Invalid or expired token")
    return post


@router.get("/{post_id}", response_model=PostPublic, responses=E404)
async def get_post(post: PostDep) -> dict[str, Any]:
    """Get one post with its author."""
    return post


@router.put("/{post_id}", response_model=PostPublic, responses=OWNER_ONLY | TOO_LARGE)
async def replace_post(
    post: OwnedPostDep, data: PostReplace, session: WriteSessionDep
) -> PostPublic:
    """Replace your post's title and content; both are required."""
    post = await service.update_post(session, post=post, changes=data.model_dump())
    return PostPublic.model_validate(post)


@router.patch("/{post_id}", response_model=PostPublic, responses=OWNER_ONLY | TOO_LARGE)
async def update_post(post: OwnedPostDep, data: PostUpdate, session: WriteSessionDep) -> PostPublic:
    """Change some of your post's fields; only the fields sent are changed."""
    changes = data.model_dump(exclude_unset=True)
    post = await service.update_post(session, post=post, changes=changes)
    return PostPublic.model_validate(post)


@router.delete("/{post_id}", status_code=status.HTTP_204_NO_CONTENT, responses=OWNER_ONLY)
async def delete_post(post: OwnedPostDep, session: WriteSessionDep) -> Response:
    """Delete your post."""
    await service.delete_post(session, post=post)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@by_user_router.get("/{user_id}/posts", response_model=PostPage, responses=USER_NOT_FOUND)
async def get_user_posts(
    user: UserDep, db: DatabaseDep, skip: Skip = 0, limit: Limit = 10
) -> dict[str, Any]:
    """A user's posts, newest first."""
    posts, total = await fetch_page(db, skip=skip, limit=limit, user_id=user.id)
    return page_of(posts, total=total, skip=skip, limit=limit)
