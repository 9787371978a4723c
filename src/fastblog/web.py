"""What the HTML pages share: the browser session, CSRF tokens, flash messages, form errors.

The browser session is Starlette's signed cookie (HttpOnly, SameSite=Lax, Secure over
HTTPS). It holds the user id, a fingerprint of the password hash (changing the password
logs out every other browser), the CSRF token and pending flash messages.
"""

import hashlib
import hmac
import secrets
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Form, HTTPException, Request, status
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import Receive, Scope, Send

from fastblog.database import FOR_UPDATE, RowLock
from fastblog.dependencies import WriteSessionDep
from fastblog.users.models import User

SESSION_USER = "user_id"
SESSION_FINGERPRINT = "auth"
SESSION_CSRF = "csrf"
SESSION_FLASHES = "flashes"


# Paths that never read the browser session: the JSON API (bearer tokens), files, probes.
SESSIONLESS_PREFIXES = (
    "/api/",
    "/static/",
    "/media/",
    "/docs-assets/",
    "/lab/",
    "/metrics",
    "/health",
    "/ready",
)


class PageSessionMiddleware(SessionMiddleware):
    """Starlette's signed-cookie session, for the HTML pages only: the JSON API and static
    files skip the cookie's decoding and re-signing."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(SESSIONLESS_PREFIXES):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


class LoginRequiredError(Exception):
    """Raised by pages that need a logged-in user; answered with a redirect to /login."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def redirect(url: str) -> RedirectResponse:
    # 303: after a POST the browser follows with a GET, so a reload never re-submits.
    return RedirectResponse(url, status_code=status.HTTP_303_SEE_OTHER)


def login_redirect(next_url: str) -> RedirectResponse:
    return redirect(f"/login?next={quote(next_url, safe='/')}")


def safe_next(next_url: str | None) -> str:
    """Only local paths: a crafted ?next= must not send the user to another site."""
    if next_url and next_url.startswith("/") and not next_url.startswith(("//", "/\\")):
        return next_url
    return "/"


def flash(request: Request, message: str, category: str = "success") -> None:
    request.session.setdefault(SESSION_FLASHES, []).append([category, message])


def pop_flashes(request: Request) -> list[list[str]]:
    flashes: list[list[str]] = request.session.pop(SESSION_FLASHES, [])
    return flashes


def csrf_token(request: Request) -> str:
    token: str | None = request.session.get(SESSION_CSRF)
    if token is None:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_CSRF] = token
    return token


async def verify_csrf(request: Request, csrf_token: Annotated[str, Form()] = "") -> None:
    """Every state-changing form carries the session's token; anything else is refused."""
    expected = request.session.get(SESSION_CSRF)
    if not expected or not hmac.compare_digest(csrf_token.encode(), expected.encode()):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail="The form has expired or did not come from this site. Reload it and retry.",
        )


CsrfProtected = Depends(verify_csrf)


def _fingerprint(request: Request, user: User) -> str:
    key = request.app.state.secret_key.encode()
    return hmac.new(key, user.password_hash.encode(), hashlib.sha256).hexdigest()[:32]


def log_in(request: Request, user: User) -> None:
    csrf = request.session.get(SESSION_CSRF)
    request.session.clear()  # a fresh session: nothing carried over from before login
    request.session[SESSION_USER] = user.id
    request.session[SESSION_FINGERPRINT] = _fingerprint(request, user)
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
    user = await session.get(User, user_id, with_for_update=lock)
    if user is None or not hmac.compare_digest(
        request.session.get(SESSION_FINGERPRINT, ""), _fingerprint(request, user)
    ):
        log_out(request)  # account deleted, or password changed elsewhere
        return None
    return user


async def get_page_user(request: Request) -> User | None:
    """The logged-in user, if any; also shown in the header of every page.

    Anonymous visitors (most page views) cost no database session at all."""
    user = None
    if SESSION_USER in request.session:
        async with request.app.state.sessionmaker() as session:
            user = await _session_user(request, session)
    request.state.user = user
    return user


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


def field_errors(exc: ValidationError) -> dict[str, str]:
    """The first message for each field, worded for a person."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "form"
        message = error["msg"].removeprefix("Value error, ")
        errors.setdefault(field, message[:1].upper() + message[1:])
    return errors


def form_values(form: Any, *names: str) -> dict[str, str]:
    """The submitted text fields, to put back in the form when it has errors."""
    return {name: str(form.get(name, "")) for name in names}
