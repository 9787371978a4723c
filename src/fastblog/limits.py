"""Request body limits, enforced while the body streams in (pure ASGI, no buffering).

A declared Content-Length over the limit is refused before a byte is read; a chunked
body is counted as it arrives and refused as soon as it passes the limit. The 413 is
raised as an HTTPException inside the app, so it is answered in JSON under /api and
as an HTML page elsewhere.
"""

from fastapi import HTTPException, status
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MULTIPART_OVERHEAD = 64 * 1024  # form fields and part headers around an uploaded file
# A form (urlencoded) may be larger than a JSON body: the longest post the form accepts
# (100,000 characters, each up to 12 bytes once percent-encoded) must reach the form's own
# checks, which name the field and keep the text; past this, the form comes back empty.
FORM_BODY_BYTES = 2 * 1024 * 1024
MB = 1024 * 1024
BODILESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class BodySizeLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes

    def _limit(self, scope: Scope) -> tuple[int, int]:
        """The limit on the body's bytes, and the limit to name in the message."""
        for name, value in scope["headers"]:
            if name == b"content-type" and value.startswith(b"multipart/form-data"):
                return self.max_upload_bytes + MULTIPART_OVERHEAD, self.max_upload_bytes
            if name == b"content-type" and value.startswith(b"application/x-www-form-urlencoded"):
                limit = max(self.max_body_bytes, FORM_BODY_BYTES)
                return limit, limit
        return self.max_body_bytes, self.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared == 0 or (declared is None and scope["method"] in BODILESS_METHODS):
            await self.app(scope, receive, send)  # nothing to count: most GETs
            return
        limit, stated = self._limit(scope)
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            if declared is not None and declared > limit:
                raise BodyTooLargeError(stated)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLargeError(stated)
            return message

        await self.app(scope, limited_receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def readable_size(size: int) -> str:
    """5 MB, 1.5 MB, 64 KB: as people say sizes (MB for 2**20 bytes, as file managers do)."""
    for unit, name in ((MB, "MB"), (1024, "KB")):
        if size >= unit:
            return f"{size / unit:.1f}".removesuffix(".0") + f" {name}"
    return f"{size} bytes"


class BodyTooLargeError(HTTPException):
    """A 413; its own class so a page can answer it with its form (fastblog.posts.views)."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            status.HTTP_413_CONTENT_TOO_LARGE,
            detail=f"The request is larger than {readable_size(limit)}.",
        )
