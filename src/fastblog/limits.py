"""Request body limits, enforced while the body streams in (pure ASGI, no buffering).

A declared Content-Length over the limit is refused before a byte is read; a chunked
body is counted as it arrives and refused as soon as it passes the limit. The 413 is
raised as an HTTPException inside the app, so it is answered in JSON under /api and
as an HTML page elsewhere.
"""

from fastapi import HTTPException, status
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MULTIPART_OVERHEAD = 64 * 1024  # form fields and part headers around an uploaded file
BODILESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class BodySizeLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes

    def _limit(self, scope: Scope) -> int:
        for name, value in scope["headers"]:
            if name == b"content-type" and value.startswith(b"multipart/form-data"):
                return self.max_upload_bytes + MULTIPART_OVERHEAD
        return self.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared == 0 or (declared is None and scope["method"] in BODILESS_METHODS):
            await self.app(scope, receive, send)  # nothing to count: most GETs
            return
        limit = self._limit(scope)
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            if declared is not None and declared > limit:
                raise _too_large(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _too_large(limit)
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


def _too_large(limit: int) -> HTTPException:
    size = f"{limit / (1024 * 1024):.1f} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"
    return HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE, detail=f"Request body larger than {size}"
    )
