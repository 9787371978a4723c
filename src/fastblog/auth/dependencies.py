"""Who is asking: bearer tokens for the API, the session cookie for pages."""

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.auth.passwords import PasswordHasher
from fastblog.auth.throttle import LoginThrottle
from fastblog.auth.tokens import user_id_from_token
from fastblog.database import FOR_KEY_SHARE, RowLock
from fastblog.dependencies import SessionDep, WriteSessionDep
from fastblog.users.models import User

# auto_error=False: we raise our own 401 so every failure carries the same header.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/users/token", auto_error=False)


def unauthorized(detail: str = "Not authenticated") -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"}
    )


def forbidden(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, detail=detail)


async def get_token_user_id(
    request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> int:
    """The user id a valid bearer token names; no database access."""
    if not token:
        raise unauthorized()
    user_id = user_id_from_token(token, secret=request.app.state.secret_key)
    if user_id is None:
        raise unauthorized("Invalid or expired token")
    return user_id


TokenUserIdDep = Annotated[int, Depends(get_token_user_id)]


async def _existing_user(session: AsyncSession, user_id: int, lock: RowLock = None) -> User:
    user = await session.get(User, user_id, with_for_update=lock)
    if user is None:  # deleted since the token was issued
        raise unauthorized("Invalid or expired token")
    return user


async def get_current_user(user_id: TokenUserIdDep, session: SessionDep) -> User:
    return await _existing_user(session, user_id)


async def get_current_user_for_write(user_id: TokenUserIdDep, session: WriteSessionDep) -> User:
    """The same user, in the write transaction (the token is checked before the lock), kept
    from being deleted until the transaction ends: what it writes will point to the user."""
    return await _existing_user(session, user_id, FOR_KEY_SHARE)


CurrentUserDep = Annotated[User, Depends(get_current_user)]
CurrentUserForWriteDep = Annotated[User, Depends(get_current_user_for_write)]


async def get_hasher(request: Request) -> PasswordHasher:
    hasher: PasswordHasher = request.app.state.password_hasher
    return hasher


async def get_throttle(request: Request) -> LoginThrottle:
    throttle: LoginThrottle = request.app.state.login_throttle
    return throttle


HasherDep = Annotated[PasswordHasher, Depends(get_hasher)]
ThrottleDep = Annotated[LoginThrottle, Depends(get_throttle)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
