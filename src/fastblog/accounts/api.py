from typing import Annotated

from fastapi import Depends, File, Response, UploadFile, status

from fastblog.accounts import follows, pictures, role_changes, service
from fastblog.accounts.dependencies import (
    AccountDeletionDep,
    CurrentUserDep,
    CurrentUserForWriteDep,
    HasherDep,
    TokenUserIdDep,
    TokenViewerDep,
    UserForWriteDep,
    UserId,
    forbidden,
)
from fastblog.accounts.models import User
from fastblog.accounts.roles import Role
from fastblog.accounts.schemas import (
    FollowState,
    PasswordChange,
    RoleChange,
    UserCreate,
    UserPrivate,
    UserUpdate,
)
from fastblog.accounts.signup import SignupRules, check_open, signup_rules
from fastblog.db import utcnow
from fastblog.dependencies import DatabaseDep, ResourcesDep, WriteLimiterDep, WriteSessionDep
from fastblog.params import TOO_LARGE, UNAVAILABLE, Responses, error
from fastblog.routing import api_router
from fastblog.write_limits import FOLLOWS

router = api_router(prefix="/api/users", tags=["users"], responses=UNAVAILABLE)

E400: Responses = {status.HTTP_400_BAD_REQUEST: error("Username or email already taken")}
E401: Responses = {status.HTTP_401_UNAUTHORIZED: error("Missing, invalid or expired token")}
E401_IF_SENT: Responses = {status.HTTP_401_UNAUTHORIZED: error("A token was sent, but not valid")}
E403: Responses = {status.HTTP_403_FORBIDDEN: error("Not your account")}
E404: Responses = {status.HTTP_404_NOT_FOUND: error("User not found")}
E409_OWNER: Responses = {status.HTTP_409_CONFLICT: error("The owner must hand ownership on first")}
E429: Responses = {
    status.HTTP_429_TOO_MANY_REQUESTS: error("Too many writes in a minute (see Retry-After)")
}
E413: Responses = {status.HTTP_413_CONTENT_TOO_LARGE: error("The picture is over the size limit")}
# Either FastAPI's validation error (no file sent) or our message (not an image, empty file).
E422: Responses = {
    status.HTTP_422_UNPROCESSABLE_CONTENT: {
        "description": "Invalid input or not an image",
        "content": {
            "application/json": {
                "schema": {
                    "anyOf": [
                        {"$ref": "#/components/schemas/HTTPValidationError"},
                        {"$ref": "#/components/schemas/ErrorMessage"},
                    ]
                }
            }
        },
    }
}


async def open_signup(resources: ResourcesDep) -> SignupRules:
    """Sign-up's rules, if anyone may sign up now: 403 first, before the password is hashed."""
    rules = await signup_rules(resources)
    await check_open(rules, resources.database)
    return rules


async def hash_new_account(data: UserCreate, hasher: HasherDep) -> tuple[UserCreate, str]:
    """Validate the body and hash its password before the route takes the write lock."""
    return data, await hasher.hash(data.password)


async def get_own_account(user_id: TokenUserIdDep, user: UserForWriteDep) -> User:
    """The account in the path, only if it is the caller's own."""
    if user.id != user_id:
        raise forbidden("You can only change your own account")
    return user


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=UserPrivate,
    responses=E400 | TOO_LARGE | {status.HTTP_403_FORBIDDEN: error("Sign-up is not open")},
)
async def create_user(
    rules: Annotated[SignupRules, Depends(open_signup)],
    new_account: Annotated[tuple[UserCreate, str], Depends(hash_new_account)],
    session: WriteSessionDep,
) -> UserPrivate:
    """Create an account (when sign-up is open: 403 when it is closed or by invitation). The
    site's first account is its owner; the others get the site's role for new accounts."""
    data, password_hash = new_account
    user = await service.create_user(
        session, data=data, password_hash=password_hash, role=rules.new_account_role
    )
    return UserPrivate.model_validate(user)


@router.get("/me", response_model=UserPrivate, responses=E401)
async def get_me(user: CurrentUserDep) -> UserPrivate:
    """Your own profile, with your email."""
    return UserPrivate.model_validate(user)


@router.patch("/me", response_model=UserPrivate, responses=E400 | E401 | TOO_LARGE)
async def update_me(
    user: CurrentUserForWriteDep, data: UserUpdate, session: WriteSessionDep
) -> UserPrivate:
    """Change your profile: username, email, bio (Markdown-lite, up to 500 characters) and
    website (http or https); only the fields sent are changed, and "" clears bio or website."""
    user = await service.update_user(session, user=user, data=data)
    return UserPrivate.model_validate(user)


@router.patch(
    "/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=E401 | TOO_LARGE | {status.HTTP_400_BAD_REQUEST: error("Wrong current password")},
)
async def change_password(
    data: PasswordChange, user: CurrentUserDep, db: DatabaseDep, hasher: HasherDep
) -> Response:
    """Change your password; the current one is required."""
    await service.change_password(
        db,
        hasher,
        user=user,
        current_password=data.current_password,
        new_password=data.new_password,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.patch("/me/picture", response_model=UserPrivate, responses=E401 | E413 | E422)
async def upload_picture(
    user_id: TokenUserIdDep,
    resources: ResourcesDep,
    file: Annotated[UploadFile, File(description="A JPEG, PNG, GIF or WebP image, 5 MB at most")],
) -> UserPrivate:
    """Upload a profile picture; it is cropped to a square."""
    data = await pictures.read_upload(file, max_bytes=resources.settings.max_upload_bytes)
    user = await pictures.replace_picture(resources, user_id=user_id, data=data)
    return UserPrivate.model_validate(user)


@router.delete("/me/picture", response_model=UserPrivate, responses=E401)
async def delete_picture(user_id: TokenUserIdDep, resources: ResourcesDep) -> UserPrivate:
    """Remove your profile picture and go back to the default avatar."""
    user = await pictures.clear_picture(resources, user_id=user_id)
    return UserPrivate.model_validate(user)


# FastAPI's validation error (a bad id), or our message (following yourself).
E422_SELF: Responses = {
    status.HTTP_422_UNPROCESSABLE_CONTENT: {
        **E422[status.HTTP_422_UNPROCESSABLE_CONTENT],
        "description": "Invalid input, or following yourself",
    }
}
FOLLOW_ERRORS: Responses = E401 | E404 | E429 | E422_SELF


@router.post("/{user_id}/follow", response_model=FollowState, responses=FOLLOW_ERRORS)
async def follow_user(
    user_id: UserId, me: TokenUserIdDep, db: DatabaseDep, limiter: WriteLimiterDep
) -> dict[str, object]:
    """Follow a user: their posts appear in your feed. Following twice is one follow."""
    async with limiter.accepting(FOLLOWS, me):
        return await follows.follow(db, user_id=me, followee_id=user_id, now=utcnow())


@router.delete("/{user_id}/follow", response_model=FollowState, responses=FOLLOW_ERRORS)
async def unfollow_user(
    user_id: UserId, me: TokenUserIdDep, db: DatabaseDep, limiter: WriteLimiterDep
) -> dict[str, object]:
    """Stop following a user (nothing changes if you did not follow them)."""
    async with limiter.accepting(FOLLOWS, me):
        return await follows.unfollow(db, user_id=me, followee_id=user_id)


E403_ROLE: Responses = {
    status.HTTP_403_FORBIDDEN: error(
        "Only an admin or the owner changes roles; an admin only those below admin; only the "
        "owner touches the owner's account or hands ownership on"
    )
}


@router.put(
    "/{user_id}/role",
    response_model=UserPrivate,
    responses=E401 | E403_ROLE | E404 | E409_OWNER | TOO_LARGE,
)
async def set_role(
    user_id: UserId, viewer: TokenViewerDep, data: RoleChange, db: DatabaseDep
) -> UserPrivate:
    """Give an account a role (an admin or the owner). Giving "owner" hands ownership on: the
    old owner becomes an admin."""
    user = await role_changes.change_role(
        db,
        target_id=user_id,
        role=Role(data.role),
        by_id=viewer.id,  # its token checked (401) before the body (422)
    )
    return UserPrivate.model_validate(user)


@router.patch(
    "/{user_id}", response_model=UserPrivate, responses=E400 | E401 | E403 | E404 | TOO_LARGE
)
async def update_user(
    user: Annotated[User, Depends(get_own_account)], data: UserUpdate, session: WriteSessionDep
) -> UserPrivate:
    """Change your username, email, bio or website; only the fields sent are changed."""
    user = await service.update_user(session, user=user, data=data)
    return UserPrivate.model_validate(user)


@router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=E401 | E403 | E404 | E409_OWNER,
)
async def delete_user(
    user: Annotated[User, Depends(get_own_account)],
    session: WriteSessionDep,
    resources: ResourcesDep,
    deletion: AccountDeletionDep,
) -> Response:
    """Delete your account and all of your posts (the owner: once ownership is handed on)."""
    picture = user.image_file
    await service.delete_user(session, user=user, deletion=deletion)
    await pictures.remove_picture(resources, picture)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
