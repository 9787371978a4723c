"""HEAD wherever GET works: the GET's status and headers, no body (RFC 9110, 9.3.2).

Starlette's plain routes and static files answer HEAD, but FastAPI's API routes do not, so
every page and API read answered 405 to uptime monitors and link checkers. Rather than add a
HEAD to each route (and a second operation per path to the OpenAPI document), this pure ASGI
middleware serves a HEAD as the GET it stands for and drops the body on the way out. It sits
innermost, so logs, metrics and the session see the request's real method.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGetMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] in ("http.response.body", "http.response.pathsend"):
                if message.get("more_body", False):
                    return  # the GET streams on; the HEAD's one empty body ends the response
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        # Content-Length stays the GET's: a HEAD tells the size of what a GET would send.
        await self.app({**scope, "method": "GET"}, receive, send_without_body)
