"""Security headers on every response (pure ASGI: no per-request task or body buffering)."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Pages load only this site's CSS, images and scripts (and images from where the site's
# pictures are, with EXTERNAL_IMAGES=allow any https: one): an injected <script> or inline
# handler cannot run even if escaping ever failed.
STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:{images}; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# Swagger UI and ReDoc start with an inline script from FastAPI; only their pages allow it.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; "
    "frame-ancestors 'none'"
)
# Uploaded files are only ever images, and are served as if hostile anyway.
MEDIA_CSP = "default-src 'none'; img-src 'self'; sandbox"
DOCS_PATHS = ("/docs", "/redoc")
HSTS = "max-age=31536000; includeSubDomains"

Headers = tuple[tuple[bytes, bytes], ...]


def header_set(csp: str, *, https: bool) -> Headers:
    headers = {
        "content-security-policy": csp,
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "strict-origin-when-cross-origin",
        "cross-origin-opener-policy": "same-origin",
    }
    if https:
        headers["strict-transport-security"] = HSTS
    return tuple((name.encode(), value.encode()) for name, value in headers.items())


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, https: bool, image_sources: tuple[str, ...] = ()) -> None:
        self.app = app
        # Encoded once: appending ready-made byte pairs is all a response pays.
        images = "".join(f" {source}" for source in image_sources)
        self.strict = header_set(STRICT_CSP.format(images=images), https=https)
        self.docs = header_set(DOCS_CSP, https=https)
        self.media = header_set(MEDIA_CSP, https=https)

    def headers_for(self, path: str) -> Headers:
        if path.startswith("/media/"):
            return self.media
        if path.startswith(DOCS_PATHS):
            return self.docs
        return self.strict

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.headers_for(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Nothing in the app sets these headers, so they are added, not merged.
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
