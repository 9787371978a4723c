"""Refuse requests for a host this site is not (pure ASGI, before anything else runs).

A request whose Host header names another site is a 400: a DNS name pointed at this server by
someone else, or a Host forged so that a page or a mail built from the request's address
(fastblog.web.urls: when PUBLIC_BASE_URL is unset) would carry the attacker's domain.
The health probes answer any Host: a load balancer checks each server by its address and
names a host of its own (HAProxy in deploy/ sends `Host: fastblog-health-check`).
"""

from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

PROBE_PATHS = frozenset({"/health", "/ready"})


def host_of(header: str) -> str:
    """The host of a Host header, without its port, lower-case (an IPv6 address unbracketed)."""
    header = header.strip().lower()
    if header.startswith("["):  # [::1]:8000
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class AllowedHostsMiddleware:
    """`hosts`: names, `*.example.org` for any subdomain of it, or `*` for any host."""

    def __init__(self, app: ASGIApp, *, hosts: Iterable[str]) -> None:
        self.app = app
        names = {host.strip().lower() for host in hosts if host.strip()}
        self.any_host = "*" in names
        self.exact = frozenset(name for name in names if not name.startswith("*."))
        self.suffixes = tuple(name[1:] for name in names if name.startswith("*."))

    def allows(self, host: str) -> bool:
        return self.any_host or host in self.exact or host.endswith(self.suffixes or ("\0",))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] in PROBE_PATHS:
            await self.app(scope, receive, send)
            return
        header = next((value for name, value in scope["headers"] if name == b"host"), b"")
        if self.allows(host_of(header.decode("latin-1"))):
            await self.app(scope, receive, send)
            return
        body = b"Invalid host header: this server does not serve that site.\n"
        await send(
            {
                "type": "http.response.start",
                "status": 400,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
