"""What the HTML pages share: the browser session, CSRF tokens, flash messages, form errors.

The browser session is Starlette's signed cookie (HttpOnly, SameSite=Lax, Secure over
HTTPS). It holds the user id, a fingerprint of the password hash (changing the password
logs out every other browser), the CSRF token and pending flash messages.
"""

import hmac
import secrets
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Form, HTTPException, Request, status
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import Receive, Scope, Send

from fastblog.messages import plain_message

SESSION_USER = "user_id"
SESSION_FINGERPRINT = "auth"
SESSION_CSRF = "csrf"
SESSION_FLASHES = "flashes"
SESSION_FORM_ERRORS = "form_errors"


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
    "/feed.xml",
    "/sitemap",
    "/robots.txt",
    "/favicon.ico",
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


def stash_form_errors(request: Request, errors: dict[str, str]) -> None:
    """For Post/Redirect/Get: the errors of a form whose page is shown at another address."""
    request.session[SESSION_FORM_ERRORS] = errors


def pop_form_errors(request: Request) -> dict[str, str]:
    errors: dict[str, str] = request.session.pop(SESSION_FORM_ERRORS, {})
    return errors


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


# What a person calls each form field, for "Please enter ...".
FIELD_NAMES = {
    "title": "a title",
    "content": "some content",
    "username": "a username",
    "email": "your email address",
    "password": "your password",
    "current_password": "your current password",
    "new_password": "a new password",
    "picture": "a picture",
    "body": "a comment",
}


def form_message(field: str, error: Any) -> str:
    """A validation error as a person would say it."""
    kind, context = error["type"], error.get("ctx") or {}
    value = error.get("input")
    # A value of blanks is a field left empty; but blanks are a password's own characters,
    # refused with a message of their own.
    blank = isinstance(value, str) and not value.strip() and "password" not in field
    name = FIELD_NAMES.get(field, "a value")
    if kind == "missing" or blank or (kind == "string_too_short" and context["min_length"] == 1):
        return f"Please enter {name}."
    if kind == "string_too_short":
        return f"Please use at least {context['min_length']:,} characters."
    if kind == "string_too_long":
        return f"Please use at most {context['max_length']:,} characters."
    if field == "email" and kind == "value_error":
        return "This doesn't look like an email address."
    return plain_message(error)


def field_errors(exc: ValidationError) -> dict[str, str]:
    """The first message for each field, worded for a person; every field at once."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "form"
        errors.setdefault(field, form_message(field, error))
    return errors


def form_values(form: Any, *names: str) -> dict[str, str]:
    """The submitted text fields, to put back in the form when it has errors."""
    return {name: str(form.get(name, "")) for name in names}
