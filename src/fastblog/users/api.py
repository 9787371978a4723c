from fastapi import APIRouter, HTTPException, Response, status

from fastblog.dependencies import SessionDep, WriteSessionDep
from fastblog.params import Limit, Skip, responses
from fastblog.posts import service as posts_service
from fastblog.posts.schemas import PostPage, page_of
from fastblog.users import service
from fastblog.users.dependencies import UserDep, UserForWriteDep
from fastblog.users.schemas import UserCreate, UserPrivate, UserPublic, UserUpdate

router = APIRouter(prefix="/api/users", tags=["users"])

NOT_FOUND = responses(not_found="User not found")
DUPLICATE = responses(bad_request="Username or email already taken")
NOT_FOUND_OR_DUPLICATE = NOT_FOUND | DUPLICATE


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=UserPrivate, responses=DUPLICATE
)
async def create_user(data: UserCreate, session: WriteSessionDep) -> UserPrivate:
    """Create a user account."""
    try:
        user = await service.create_user(session, data=data)
    except service.DuplicateUserError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=str(exc)) from exc
    return UserPrivate.model_validate(user)


@router.get("/{user_id}", response_model=UserPublic, responses=NOT_FOUND)
async def get_user(user: UserDep) -> UserPublic:
    """Get a user's public profile."""
    return UserPublic.model_validate(user)


@router.get("/{user_id}/posts", response_model=PostPage, responses=NOT_FOUND)
async def get_user_posts(
    user: UserDep, session: SessionDep, skip: Skip = 0, limit: Limit = 10
) -> PostPage:
    """List a user's posts, newest first."""
    posts, total = await posts_service.list_posts(session, skip=skip, limit=limit, user_id=user.id)
    return page_of(posts, total=total, skip=skip, limit=limit)


@router.patch("/{user_id}", response_model=UserPrivate, responses=NOT_FOUND_OR_DUPLICATE)
async def update_user(
    user: UserForWriteDep, data: UserUpdate, session: WriteSessionDep
) -> UserPrivate:
    """Change a user's username or email; only the fields sent are changed."""
    try:
        user = await service.update_user(session, user=user, data=data)
    except service.DuplicateUserError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=str(exc)) from exc
    return UserPrivate.model_validate(user)


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
async def delete_user(user: UserForWriteDep, session: WriteSessionDep) -> Response:
    """Delete a user and all of their posts."""
    await service.delete_user(session, user=user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
