"""Errors answer in the client's language: JSON under /api, an HTML page elsewhere."""

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount

from fastblog.db import DatabaseUnavailableError, is_database_unavailable
from fastblog.exceptions import DomainError
from fastblog.messages import page_message, plain_message
from fastblog.web.session import LoginRequiredError, flash, login_redirect
from fastblog.web.templating import templates

logger = logging.getLogger(__name__)

# /ap, /.well-known/webfinger and /nodeinfo: ActivityPub's (fastblog.federation).
JSON_PREFIXES = (
    "/api",
    "/health",
    "/ready",
    "/metrics",
    "/lab",
    "/openapi.json",
    "/docs",
    "/ap",
    "/.well-known/webfinger",
    "/.well-known/nodeinfo",
    "/nodeinfo",
)

TITLES = {
    400: "Bad request",
    401: "Please log in",
    403: "Not allowed",
    404: "Page not found",
    405: "Method not allowed",
    413: "Too large",
    422: "That doesn't look right",
    429: "Slow down",
    500: "Something went wrong",
    503: "Temporarily unavailable",
}


def wants_json(request: Request) -> bool:
    # Whole path segments: /api and /api/... are JSON, /apiary is a page.
    path = request.url.path
    return any(path == prefix or path.startswith(f"{prefix}/") for prefix in JSON_PREFIXES)


# Loads the logged-in user of a page request (fastblog.accounts, a layer up, hands it over in
# install_error_handlers): an error raised before the route's own dependency ran (a path no
# route has, a bad query parameter) would otherwise show a logged-out header.
PageUserLoader = Callable[[Request], Awaitable[Any]]


async def show_page_user(request: Request) -> None:
    if hasattr(request.state, "user") or "session" not in request.scope:
        return
    request.state.user = None
    loader: PageUserLoader | None = getattr(request.app.state, "page_user_loader", None)
    if loader is None:
        return
    try:
        await loader(request)
    except Exception:  # an error page must not fail for the header's sake (database away)
        logger.warning("Could not load the logged-in user for an error page", exc_info=True)
        request.state.user = None


async def error_page(request: Request, status_code: int, message: str) -> Response:
    title = TITLES.get(status_code, "Error")
    if status_code >= 500:
        # The failed transaction was rolled back: the user loaded in it is expired and its
        # session closed, so showing it in the header would fail again. The page shows none.
        request.state.user = None
    else:
        await show_page_user(request)
    return templates.TemplateResponse(
        request,
        "error.html",
        {"status_code": status_code, "title": title, "message": message},
        status_code=status_code,
    )


def unreadable_body(exc: StarletteHTTPException) -> RequestValidationError | None:
    """FastAPI answers 400 to a body it cannot parse: JSON that is not UTF-8, a malformed
    multipart body. That is invalid input like any other, so it gets the same 422."""
    cause = exc.__cause__ or exc.__context__  # FastAPI chains it; Starlette raises in except
    if exc.status_code != 400 or not isinstance(cause, UnicodeDecodeError | MultiPartException):
        return None
    message = "Body is not valid UTF-8" if isinstance(cause, UnicodeDecodeError) else str(cause)
    return RequestValidationError(
        [{"type": "body_unreadable", "loc": ("body",), "msg": message, "input": None}]
    )


METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


# The static pages' catch-all (fastblog.admin.pages_views): it matches every one-segment path,
# so it counts for Allow only where no other route takes the path.
CATCH_ALL_ROUTE = "page"


def _methods(request: Request, routes: list[BaseRoute]) -> list[str]:
    return [
        method
        for method in METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes
        )
    ]


def methods_of_other_routes(request: Request) -> list[str]:
    """The methods that routes other than the static pages' catch-all accept at this path."""
    routes = [
        route
        for route in request.app.router.routes
        if not isinstance(route, Mount) and getattr(route, "name", None) != CATCH_ALL_ROUTE
    ]
    return _methods(request, routes)


def allowed_methods(request: Request) -> str:
    """Every method some route accepts at this path: Starlette's Allow names only the
    methods of the first route that matched the path, and each method is a route here.
    HEAD goes wherever GET does (fastblog.head)."""
    allowed = methods_of_other_routes(request)
    if not allowed:
        routes = [route for route in request.app.router.routes if not isinstance(route, Mount)]
        allowed = _methods(request, routes)
    if "GET" in allowed:
        allowed.insert(1, "HEAD")
    return ", ".join(allowed)


async def on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if (validation_error := unreadable_body(exc)) is not None:
        return await on_validation_error(request, validation_error)
    if exc.status_code == 405 and (allowed := allowed_methods(request)):
        exc.headers = {**(exc.headers or {}), "Allow": allowed}
    if wants_json(request):
        return await http_exception_handler(request, exc)
    message = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "")
    response = await error_page(request, exc.status_code, message)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if wants_json(request):
        # FastAPI's default answer repeats each invalid value ("input"), and for a missing
        # field the whole body: a sign-up error would send the password back. Leave it out.
        # The message is said in plain words (fastblog.messages); type and loc stay pydantic's.
        errors = [
            {**{k: v for k, v in error.items() if k != "input"}, "msg": plain_message(error)}
            for error in exc.errors()
        ]
        return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)
    return await error_page(request, 422, page_message(exc.errors(), request.url.path))


async def on_unhandled_error(request: Request, exc: Exception) -> Response:
    # The traceback goes to the log, never to the client.
    logger.exception("Unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    if wants_json(request):
        return JSONResponse({"detail": "Internal server error"}, status_code=500)
    return await error_page(request, 500, "The error has been logged. Please try again later.")


DATABASE_UNAVAILABLE = "The database is unavailable right now. Please try again in a moment."
RETRY_AFTER_SECONDS = "5"


async def on_database_error(request: Request, exc: Exception) -> Response:
    if not is_database_unavailable(exc):
        return await on_unhandled_error(request, exc)
    logger.warning(
        "Database unavailable on %s %s: %s: %s",
        request.method,
        request.url.path,
        exc.__class__.__name__,
        exc,
    )
    headers = {"Retry-After": RETRY_AFTER_SECONDS}
    if wants_json(request):
        return JSONResponse({"detail": DATABASE_UNAVAILABLE}, status_code=503, headers=headers)
    response = await error_page(request, 503, DATABASE_UNAVAILABLE)
    response.headers.update(headers)
    return response


async def on_domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    headers = dict(exc.headers or {})
    if wants_json(request):
        if exc.status_code == 401:
            headers["WWW-Authenticate"] = "Bearer"
        return JSONResponse({"detail": exc.message}, status_code=exc.status_code, headers=headers)
    response = await error_page(request, exc.status_code, exc.message)
    response.headers.update(headers)
    return response


async def on_login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequiredError)
    flash(request, "Please log in to see that page.", "info")
    return login_redirect(exc.next_url)


def install_error_handlers(app: FastAPI, page_user: PageUserLoader | None = None) -> None:
    app.state.page_user_loader = page_user
    app.add_exception_handler(LoginRequiredError, on_login_required)
    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(StarletteHTTPException, on_http_exception)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    for database_error in (
        DatabaseUnavailableError,
        sa_exc.DBAPIError,
        sa_exc.TimeoutError,
        ConnectionError,
        TimeoutError,
    ):
        app.add_exception_handler(database_error, on_database_error)
    app.add_exception_handler(Exception, on_unhandled_error)
