"""Talking to other servers: fetching actors and keys, posting to inboxes.

Every request refuses loopback, private, link-local and other non-public addresses (unless
FEDERATION_ALLOW_PRIVATE_ADDRESSES), checked for each address the name resolves to and again
for each redirect; at most MAX_REDIRECTS redirects; the whole exchange within TIMEOUT_SECONDS;
at most MAX_BYTES read. The check is made before httpx connects, so a name that resolves
differently a moment later (DNS rebinding) could slip past it: see docs/federation.md.
"""

import asyncio
import functools
import ipaddress
import json
import socket
import ssl
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from fastblog.config import Settings

TIMEOUT_SECONDS = 5.0
MAX_BYTES = 1024 * 1024
MAX_REDIRECTS = 3
AP_ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
USER_AGENT = "fastblog (ActivityPub)"


class FetchError(Exception):
    """The remote server could not be reached, refused, or answered something unusable."""


@functools.cache
def tls_context() -> ssl.SSLContext:
    """httpx's default TLS context (certifi's CA bundle, verification on), made once per
    process: httpx loads the bundle again for each client, 20-50 ms of CPU, and every app a
    process starts (each test's, in the suite) makes a client at start-up."""
    return httpx.create_ssl_context()


class Remote:
    """One httpx client for the process (opened and closed by the lifespan)."""

    def __init__(self, settings: Settings) -> None:
        self.allow_private = settings.federation_allow_private_addresses
        self.client = httpx.AsyncClient(
            timeout=TIMEOUT_SECONDS,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
            verify=tls_context(),
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    async def check_address(self, url: str) -> None:
        """FetchError unless `url` is http(s) and every address its host has is public."""
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise FetchError(f"Not an http(s) address: {url[:200]}")
        if self.allow_private:
            return
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                parts.hostname, parts.port or 443, type=socket.SOCK_STREAM
            )
        except OSError as exc:
            raise FetchError(f"Cannot resolve {parts.hostname}: {exc}") from exc
        for info in infos:
            address = ipaddress.ip_address(info[4][0])
            if not address.is_global:
                raise FetchError(f"{parts.hostname} is a private or local address ({address})")

    async def fetch_json(self, url: str, *, headers: dict[str, str] | None = None) -> Any:
        """GET an ActivityPub document (following at most MAX_REDIRECTS redirects)."""
        body = await self._exchange("GET", url, headers={"Accept": AP_ACCEPT, **(headers or {})})
        try:
            return json.loads(body)
        except ValueError as exc:
            raise FetchError(f"{url[:200]} did not answer JSON") from exc

    async def post(self, url: str, *, body: bytes, headers: dict[str, str]) -> None:
        """POST to an inbox (no redirects: a signature covers one address)."""
        await self._exchange("POST", url, headers=headers, content=body, redirects=0)

    async def _exchange(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str],
        content: bytes | None = None,
        redirects: int = MAX_REDIRECTS,
    ) -> bytes:
        try:
            async with asyncio.timeout(TIMEOUT_SECONDS):
                for _ in range(redirects + 1):
                    await self.check_address(url)
                    status, location, body = await self._once(method, url, headers, content)
                    if status in {301, 302, 303, 307, 308} and location:
                        url = urljoin(url, location)
                        continue
                    if status >= 300:
                        raise FetchError(f"{url[:200]} answered {status}", status)
                    return body
        except TimeoutError as exc:
            raise FetchError(f"{url[:200]} did not answer within {TIMEOUT_SECONDS:.0f} s") from exc
        except httpx.HTTPError as exc:
            raise FetchError(f"{url[:200]}: {exc!r}") from exc
        raise FetchError(f"{url[:200]}: more than {redirects} redirects")

    async def _once(
        self, method: str, url: str, headers: dict[str, str], content: bytes | None
    ) -> tuple[int, str | None, bytes]:
        request = self.client.build_request(method, url, headers=headers, content=content)
        response = await self.client.send(request, stream=True)
        try:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_BYTES:
                raise FetchError(f"{url[:200]} answered more than {MAX_BYTES} bytes")
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > MAX_BYTES:
                    raise FetchError(f"{url[:200]} answered more than {MAX_BYTES} bytes")
                chunks.append(chunk)
        finally:
            await response.aclose()
        return response.status_code, response.headers.get("location"), b"".join(chunks)


def status_of(error: FetchError) -> int | None:
    """The HTTP status the remote answered, when it answered one."""
    return error.args[1] if len(error.args) > 1 else None
