from fastapi import APIRouter, HTTPException, Response, status

from fastblog.dependencies import SessionDep, WriteSessionDep
from fastblog.params import Limit, Skip, responses
from fastblog.posts import service
from fastblog.posts.dependencies import PostDep, PostForWriteDep
from fastblog.posts.schemas import (
    PostCreate,
    PostPage,
    PostPublic,
    PostReplace,
    PostUpdate,
    page_of,
)
from fastblog.users import service as users_service

router = APIRouter(prefix="/api/posts", tags=["posts"])

NOT_FOUND = responses(not_found="Post not found")


@router.get("", response_model=PostPage)
async def list_posts(session: SessionDep, skip: Skip = 0, limit: Limit = 10) -> PostPage:
    """List posts, newest first, one page at a time."""
    posts, total = await service.list_posts(session, skip=skip, limit=limit)
    return page_of(posts, total=total, skip=skip, limit=limit)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PostPublic,
    responses=responses(not_found="User not found"),
)
async def create_post(data: PostCreate, session: WriteSessionDep) -> PostPublic:
    """Publish a post."""
    author = await users_service.get_user(session, data.user_id)
    if author is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="User not found")
    post = await service.create_post(session, title=data.title, content=data.content, author=author)
    return PostPublic.model_validate(post)


@router.get("/{post_id}", response_model=PostPublic, responses=NOT_FOUND)
async def get_post(post: PostDep) -> PostPublic:
    """Get one post with its author."""
    return PostPublic.model_validate(post)


@router.put("/{post_id}", response_model=PostPublic, responses=NOT_FOUND)
async def replace_post(
    post: PostForWriteDep, data: PostReplace, session: WriteSessionDep
) -> PostPublic:
    """Replace a post's title and content; both are required."""
    post = await service.update_post(session, post=post, changes=data.model_dump())
    return PostPublic.model_validate(post)


@router.patch("/{post_id}", response_model=PostPublic, responses=NOT_FOUND)
async def update_post(
    post: PostForWriteDep, data: PostUpdate, session: WriteSessionDep
) -> PostPublic:
    """Change some of a post's fields; only the fields sent are changed."""
    changes = data.model_dump(exclude_unset=True)
    post = await service.update_post(session, post=post, changes=changes)
    return PostPublic.model_validate(post)


@router.delete("/{post_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
async def delete_post(post: PostForWriteDep, session: WriteSessionDep) -> Response:
    """Delete a post."""
    await service.delete_post(session, post=post)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
