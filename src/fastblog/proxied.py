"""Said once per process: behind a proxy without REDIS_URL, the counts are per process.

Login throttling and rate limits count in memory unless REDIS_URL is set (fastblog.throttle).
`fastblog serve` already warns at start-up when it runs several workers without Redis
(fastblog.cli). A proxy in front is the other sign that a client's requests may be spread over
several processes (a load balancer over several hosts) and each would count on its own. The app
sees a proxy when FORWARDED_ALLOW_IPS is configured (the operator tells uvicorn to trust one)
or when a request carries X-Forwarded-For or Forwarded; it then logs one warning.

The lifespan checks the setting; a pure ASGI middleware, installed only when REDIS_URL is
unset, looks at each request's header names until the warning is said, and after that costs
one attribute check per request.
"""

import logging

from starlette.types import ASGIApp, Receive, Scope, Send

logger = logging.getLogger(__name__)

FORWARDING_HEADERS = frozenset({b"x-forwarded-for", b"forwarded"})

MESSAGE = (
    "%s and REDIS_URL is not set: login throttling and rate limits are counted in each "
    "process on its own, so a client whose requests a load balancer spreads over several "
    "processes or hosts gets the limit of each. Set REDIS_URL to count them across all."
)


class ProxyWarning:
    """The warning, said at most once by the app it belongs to (one app per process)."""

    def __init__(self) -> None:
        self.said = False

    def at_start_up(self, forwarded_allow_ips: str | None) -> None:
        """Called by the lifespan: the operator said a proxy is in front."""
        if forwarded_allow_ips:
            self._say(f"FORWARDED_ALLOW_IPS is set ({forwarded_allow_ips})")

    def on_request(self, scope: Scope) -> None:
        if any(name in FORWARDING_HEADERS for name, _ in scope["headers"]):
            self._say("A request came through a proxy (it carries X-Forwarded-For or Forwarded)")

    def _say(self, reason: str) -> None:
        if not self.said:
            self.said = True
            logger.warning(MESSAGE, reason)


class ProxySeenWarningMiddleware:
    def __init__(self, app: ASGIApp, *, warning: ProxyWarning) -> None:
        self.app = app
        self.warning = warning

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.warning.said and scope["type"] in ("http", "websocket"):
            self.warning.on_request(scope)
        await self.app(scope, receive, send)
