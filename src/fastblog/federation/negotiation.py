"""Content negotiation for the actor and the posts: pure ASGI middleware.

An author page (`/users/{id}/posts`) or a post (`/posts/{id}`, with or without its slug)
asked for with an ActivityPub Accept header is routed to fastblog.federation.routes
(`/ap/users/{id}`, `/ap/posts/{id}`); a browser's request goes on to the page as before.
"""

import re

from starlette.types import ASGIApp, Receive, Scope, Send

_AUTHOR = re.compile(r"^/users/(\d+)/posts/?$")
_POST = re.compile(r"^/posts/(\d+)(?:/[^/]+)?/?$")


def wants_activity(accept: str) -> bool:
    """`application/activity+json`, or `application/ld+json` with the ActivityStreams
    profile (as Mastodon asks)."""
    accept = accept.lower()
    if "application/activity+json" in accept:
        return True
    return "application/ld+json" in accept and "https://www.w3.org/ns/activitystreams" in accept


def ap_path(path: str) -> str | None:
    if match := _AUTHOR.match(path):
        return f"/ap/users/{match.group(1)}"
    if match := _POST.match(path):
        return f"/ap/posts/{match.group(1)}"
    return None


class ActivityNegotiationMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in {"GET", "HEAD"}:
            target = ap_path(scope["path"])
            if target is not None:
                accept = b", ".join(v for k, v in scope["headers"] if k == b"accept")
                if wants_activity(accept.decode("latin-1")):
                    scope = {**scope, "path": target, "raw_path": target.encode()}
        await self.app(scope, receive, send)
