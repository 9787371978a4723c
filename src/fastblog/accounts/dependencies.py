"""Who is asking, and which account a route is about: bearer tokens for the API, the session
cookie for pages, the account in the path. Each dependency loads or refuses, in the order
401, then 404, then 403."""

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated, Generic, NamedTuple, TypeVar

from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.security import OAuth2PasswordBearer
from fastapi.security.base import SecurityBase
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts import service
from fastblog.accounts.deletion import AccountDeletion
from fastblog.accounts.models import User
from fastblog.accounts.queries import current_role
from fastblog.accounts.tokens import TokenClaims, read_token
from fastblog.db import FOR_KEY_SHARE, FOR_UPDATE, RowLock
from fastblog.dependencies import (
    DatabaseDep,
    ResourcesDep,
    SessionDep,
    WriteSessionDep,
    resources_of,
)
from fastblog.params import MAX_ID
from fastblog.passwords import PasswordHasher
from fastblog.throttle import LoginThrottle, MailThrottle
from fastblog.web.session import (
    SESSION_CSRF,
    SESSION_FINGERPRINT,
    SESSION_USER,
    LoginRequiredError,
)

# auto_error=False: we raise our own 401 so every failure carries the same header.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/users/token", auto_error=False)


def unauthorized(detail: str = "Not authenticated") -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"}
    )


def forbidden(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, detail=detail)


# -- the API: bearer tokens ---------------------------------------------------------------


async def get_token_claims(
    resources: ResourcesDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> TokenClaims:
    """Who a valid bearer token names, with no database access: a route that takes only this
    checks the account's auth version itself (POST /api/posts, in its one INSERT)."""
    if not token:
        raise unauthorized()
    claims = read_token(token, secret=resources.secret_key)
    if claims is None:
        raise unauthorized("Invalid or expired token")
    return claims


TokenClaimsDep = Annotated[TokenClaims, Depends(get_token_claims)]


class Viewer(NamedTuple):
    """Who a current token names, and their role as it is now (fastblog.accounts.roles)."""

    id: int
    role: str


async def get_token_viewer(claims: TokenClaimsDep, db: DatabaseDep) -> Viewer:
    """The account of a token whose account exists and whose password (or "log out
    everywhere") has not changed since it was issued, with its role now: one indexed
    one-statement read."""
    role = await current_role(db, claims)
    if role is None:
        raise unauthorized("Invalid or expired token")
    return Viewer(claims.user_id, role)


TokenViewerDep = Annotated[Viewer, Depends(get_token_viewer)]


async def get_token_user_id(viewer: TokenViewerDep) -> int:
    return viewer.id


TokenUserIdDep = Annotated[int, Depends(get_token_user_id)]


T = TypeVar("T")


async def get_optional_token_viewer(request: Request, token: str | None) -> Viewer | None:
    """Who is asking, when a route serves anyone but shows some more (a draft to its author
    or an editor): None without a token; a token that is sent must be valid and current
    (401 otherwise). On every public read's path: the resources come from the request
    (fastblog.dependencies.resources_of says why)."""
    if not token:
        return None
    resources = resources_of(request)
    claims = await get_token_claims(resources, token)
    return await get_token_viewer(claims, resources.database)


async def get_optional_token_user_id(request: Request, token: str | None) -> int | None:
    viewer = await get_optional_token_viewer(request, token)
    return viewer.id if viewer else None


class OptionalBearer(SecurityBase, Generic[T]):
    """A dependency that reads the optional bearer token and is the OAuth2 scheme itself:
    OpenAPI finds the scheme by its name and model (the same as `oauth2_scheme`'s, so the
    document is unchanged), and FastAPI solves one node on every public read where a function
    declaring `Depends(oauth2_scheme)` made two (~70,000 instructions a node a request)."""

    # Runs where the dependencies below are declared, at import, before mutmut chooses a
    # mutant: its mutants could never be active (docs/reliability.md, mutation testing).
    def __init__(
        self, read: Callable[[Request, str | None], Awaitable[T]]
    ) -> None:  # pragma: no mutate block
        self.model = oauth2_scheme.model
        self.scheme_name = oauth2_scheme.scheme_name
        self.read = read

    async def __call__(self, request: Request) -> T:
        return await self.read(request, await oauth2_scheme(request))


OptionalTokenViewerDep = Annotated[
    Viewer | None, Depends(OptionalBearer(get_optional_token_viewer))
]
OptionalTokenUserIdDep = Annotated[int | None, Depends(OptionalBearer(get_optional_token_user_id))]


async def _existing_user(session: AsyncSession, claims: TokenClaims, lock: RowLock = None) -> User:
    user = await service.get_user(session, claims.user_id, lock=lock)
    if user is None or user.auth_version != claims.auth_version:  # deleted, or token revoked
        raise unauthorized("Invalid or expired token")
    return user


async def get_current_user(claims: TokenClaimsDep, session: SessionDep) -> User:
    return await _existing_user(session, claims)


async def get_current_user_for_write(claims: TokenClaimsDep, session: WriteSessionDep) -> User:
    """The same user, in the write transaction (the token is checked before the lock), kept
    from being deleted until the transaction ends: what it writes will point to the user."""
    return await _existing_user(session, claims, FOR_KEY_SHARE)


CurrentUserDep = Annotated[User, Depends(get_current_user)]
CurrentUserForWriteDep = Annotated[User, Depends(get_current_user_for_write)]


# -- the account a path names ---------------------------------------------------------------

UserId = Annotated[int, Path(ge=1, le=MAX_ID, description="The user's id.")]


async def _user_or_404(session: AsyncSession, user_id: int, lock: RowLock = None) -> User:
    user = await service.get_user(session, user_id, lock=lock)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="User not found")
    return user


async def get_user_or_404(session: SessionDep, user_id: UserId) -> User:
    return await _user_or_404(session, user_id)


async def get_user_for_write(session: WriteSessionDep, user_id: UserId) -> User:
    """The same user, loaded (and locked) in the write transaction that will change it."""
    return await _user_or_404(session, user_id, FOR_UPDATE)


UserDep = Annotated[User, Depends(get_user_or_404)]
UserForWriteDep = Annotated[User, Depends(get_user_for_write)]


# -- pages: the browser session -------------------------------------------------------------


def _fingerprint(secret_key: str, user: User) -> str:
    """Changes with the password hash and the auth version: a password change, a reset or "log
    out everywhere" logs out every other browser."""
    signed = f"{user.auth_version}:{user.password_hash}".encode()
    digest = hmac.new(secret_key.encode(), signed, hashlib.sha256)
    return digest.hexdigest()[:32]


def log_in(request: Request, user: User) -> None:
    csrf = request.session.get(SESSION_CSRF)
    request.session.clear()  # a fresh session: nothing carried over from before login
    request.session[SESSION_USER] = user.id
    request.session[SESSION_FINGERPRINT] = _fingerprint(request.state.resources.secret_key, user)
    if csrf:
        request.session[SESSION_CSRF] = csrf


def log_out(request: Request) -> None:
    request.session.clear()


async def _session_user(
    request: Request, session: AsyncSession, lock: RowLock = None
) -> User | None:
    user_id = request.session.get(SESSION_USER)
    if not isinstance(user_id, int):
        return None
    user = await service.get_user(session, user_id, lock=lock)
    expected = _fingerprint(request.state.resources.secret_key, user) if user else ""
    if user is None or not hmac.compare_digest(
        request.session.get(SESSION_FINGERPRINT, ""), expected
    ):
        log_out(request)  # account deleted, or password changed elsewhere
        return None
    return user


async def get_page_user(request: Request) -> User | None:
    """The logged-in user, if any; also shown in the header of every page.

    Anonymous visitors (most page views) cost no database session at all, and no dependency
    of this one to solve (fastblog.dependencies.resources_of)."""
    user = None
    if SESSION_USER in request.session:
        async with resources_of(request).database.session() as session:
            user = await _session_user(request, session)
    request.state.user = user
    return user


async def load_page_user(request: Request) -> User | None:
    """get_page_user outside a route (an error page): the header still shows who is in."""
    return await get_page_user(request)


async def require_page_user(request: Request, session: WriteSessionDep) -> User:
    """The logged-in user, loaded in the write transaction of a form that changes data."""
    user = await _session_user(request, session, FOR_UPDATE)
    if user is None:
        raise LoginRequiredError(request.url.path)
    request.state.user = user
    return user


async def require_page_user_to_read(request: Request) -> User:
    user = await get_page_user(request)
    if user is None:
        raise LoginRequiredError(request.url.path)
    return user


PageUserDep = Annotated[User | None, Depends(get_page_user)]
LoggedInDep = Annotated[User, Depends(require_page_user_to_read)]
LoggedInForWriteDep = Annotated[User, Depends(require_page_user)]


# -- what the lifespan opened, for the account routes ------------------------------------------


async def get_hasher(resources: ResourcesDep) -> PasswordHasher:
    return resources.password_hasher


async def get_throttle(resources: ResourcesDep) -> LoginThrottle:
    return resources.login_throttle


async def get_mail_throttle(resources: ResourcesDep) -> MailThrottle:
    return resources.mail_throttle


async def get_account_deletion(request: Request) -> AccountDeletion:
    """What an account's deletion also does (made by the lifespan; fastblog.accounts.deletion)."""
    deletion: AccountDeletion = request.state.account_deletion
    return deletion


AccountDeletionDep = Annotated[AccountDeletion, Depends(get_account_deletion)]
HasherDep = Annotated[PasswordHasher, Depends(get_hasher)]
ThrottleDep = Annotated[LoginThrottle, Depends(get_throttle)]
MailThrottleDep = Annotated[MailThrottle, Depends(get_mail_throttle)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
