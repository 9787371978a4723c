"""Cache-Control and validators for the HTML pages (pure ASGI, inside the browser session).

- Someone logged in: `private, no-store`. The page names them and carries their CSRF token;
  no cache, shared or the browser's own back/forward store, should keep it.
- Anyone else: `no-cache` (kept, but asked again each time) with an ETag made from the page's
  bytes, and a 304 without a body when the browser already has them. `private` as well when the
  page belongs to a browser session (a flash message, a form's CSRF token).

A route that sets its own Cache-Control or ETag is left alone, and so is a streamed page (its
bytes are not known until the end).

A page for a request with no browser session that made none is also kept by the process
(fastblog.web.kept_pages) and served from there, without being rendered, while the database
says nothing it shows has changed.
"""

import hashlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fastblog.web.kept_pages import KeptPage, KeptPages, PageKey, PageState
from fastblog.web.session import SESSION_USER

LOGGED_IN = "private, no-store"
ANONYMOUS = "no-cache"
ANONYMOUS_SESSION = "private, no-cache"


def page_etag(body: bytes) -> str:
    return f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'


def none_match(if_none_match: str, etag: str) -> bool:
    """If-None-Match's weak comparison (RFC 9110, 13.1.2): does any tag sent name this one?"""
    if if_none_match.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == opaque for tag in if_none_match.split(","))


# What answers a request whose kept page could not be checked (the database is away): the
# app's own handler for a route's database error (fastblog.errors), so a page is a 503 then,
# at once, rather than a second wait for the database in its route.
ErrorResponder = Callable[[Request, Exception], Awaitable[Response]]


class Keeping:
    """A page being rendered to be kept at `state` (read before the render)."""

    def __init__(self, pages: KeptPages, key: PageKey, state: PageState) -> None:
        self.pages, self.key, self.state = pages, key, state
        self.kept = False

    def keep(self, headers: tuple[tuple[bytes, bytes], ...], body: bytes, etag: str) -> None:
        version, expires_at = self.state.version, self.state.next_at
        self.pages.keep(self.key, KeptPage(version, expires_at, headers, body, etag))
        self.kept = True


class PageCacheMiddleware:
    def __init__(self, app: ASGIApp, on_error: ErrorResponder | None = None) -> None:
        self.app = app
        self.on_error = on_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or "session" not in scope:
            await self.app(scope, receive, send)  # the API, files, probes: not pages
            return
        pages = kept_pages_of(scope)
        if pages is None or scope["session"]:
            await self._render(scope, receive, send, None)
            return
        # A reader with no browser session: the page may be one this process kept.
        key, now = page_key(scope), datetime.now(UTC)
        try:
            kept = await pages.current(key, now)
            state = None if kept is not None else await pages.state_to_keep(key, now)
        except Exception as exc:
            if self.on_error is None:
                raise
            response = await self.on_error(Request(scope, receive), exc)
            await response(scope, receive, send)
            return
        if kept is not None:
            start = {"type": "http.response.start", "status": 200, "headers": list(kept.headers)}
            body = {"type": "http.response.body", "body": kept.body}
            await send_validated(scope, send, start, body, kept.etag)
            return
        keeping = Keeping(pages, key, state) if state is not None else None
        await self._render(scope, receive, send, keeping)
        if keeping is not None and not keeping.kept:
            pages.refuse(key, now)

    async def _render(
        self, scope: Scope, receive: Receive, send: Send, keeping: Keeping | None
    ) -> None:
        """The page from the app, with its caching headers; kept if `keeping` and it may be."""
        start: Message | None = None

        async def send_with_validators(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "cache-control" in headers or not is_html(headers):
                    await send(message)
                    return
                session = scope["session"]
                if SESSION_USER in session:
                    headers["cache-control"] = LOGGED_IN
                    await send(message)
                    return
                if message["status"] != 200 or "etag" in headers:
                    await send(message)
                    return
                start = message  # held until the body is known
                return
            if start is None:
                await send(message)
                return
            pending, start = start, None
            if message["type"] != "http.response.body" or message.get("more_body", False):
                await send(pending)  # streamed: no validator
                await send(message)
                return
            await send_page(pending, message)

        async def send_page(start: Message, body: Message) -> None:
            headers = MutableHeaders(scope=start)
            # The session as it is after the page was rendered: a token made for a form counts.
            headers["cache-control"] = ANONYMOUS_SESSION if scope["session"] else ANONYMOUS
            content = body.get("body", b"")
            etag = headers["etag"] = page_etag(content)
            if keeping is not None and not scope["session"] and "set-cookie" not in headers:
                keeping.keep(tuple(headers.raw), content, etag)
            await send_validated(scope, send, start, body, etag)

        await self.app(scope, receive, send_with_validators)


def kept_pages_of(scope: Scope) -> KeptPages | None:
    """The process's kept pages (the lifespan's state), if it keeps any."""
    state = scope.get("state")
    pages: KeptPages | None = state.get("kept_pages") if state else None
    return pages if pages is not None and pages.enabled else None


def page_key(scope: Scope) -> PageKey:
    host = next((value for name, value in scope["headers"] if name == b"host"), b"")
    return (scope.get("scheme", "http"), host, scope["path"], scope.get("query_string", b""))


async def send_validated(
    scope: Scope, send: Send, start: Message, body: Message, etag: str
) -> None:
    """The page, or a 304 without a body when the browser already has these bytes."""
    if_none_match = next(
        (value for name, value in scope["headers"] if name == b"if-none-match"), None
    )
    if if_none_match is None or not none_match(if_none_match.decode("latin-1"), etag):
        await send(start)
        await send(body)
        return
    kept = {b"cache-control", b"etag", b"vary", b"content-location", b"date", b"expires"}
    not_modified = [(name, value) for name, value in start["headers"] if name in kept]
    # Vary as the 200 would have it (RFC 9110, 15.4.5): the page is compressible.
    if not any(name == b"vary" for name, _ in not_modified):
        not_modified.append((b"vary", b"Accept-Encoding"))
    await send({"type": "http.response.start", "status": 304, "headers": not_modified})
    await send({"type": "http.response.body", "body": b""})


def is_html(headers: MutableHeaders) -> bool:
    return headers.get("content-type", "").startswith("text/html")
