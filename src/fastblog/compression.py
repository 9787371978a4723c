"""Content-Encoding: Brotli or gzip for text responses, chosen by Accept-Encoding (pure ASGI).

Why our own: Starlette's GZipMiddleware does gzip only; starlette-compress (the well-kept
Brotli-capable one) ranks codings by its own priority whatever the client's q-values say,
leaves a strong ETag unchanged on the compressed bytes (RFC 9110, 8.8.3: a validator that
differs by content coding must differ), and keeps its types in one process-wide set that also
compresses icons. What is ours here is the policy; the codecs are `brotli` and the stdlib's zlib.

- Only text types (HTML, CSS, JSON, Atom, XML sitemaps, JavaScript, plain text), only bodies of
  at least MINIMUM_SIZE, never a 304, a 204, a range or a body already encoded.
- `Vary: Accept-Encoding` on every response of those types, compressed or not, so a shared
  cache never hands a compressed page to a client that did not ask for it.
- A strong ETag `"x"` becomes `"x-br"` or `"x-gzip"` on the compressed variant. On the way in,
  If-None-Match loses those suffixes, so routes compare against the tag they made; a 304 then
  carries back the tag the client sent.
- A streaming response (several body messages) is compressed as it goes, each message flushed,
  so the client still sees the parts as they come.
- A body with a strong ETag is compressed once per tag and coding (VariantCache): the same tag
  is the same bytes.

Levels chosen by measurement on the demo blog's post pages, 8-11 kB, in CPU time
(docs/performance.md, "Compression"): Brotli quality 4 sends 0.31 of the bytes for ~0.16 ms a
page; 5 saves two points more for half as much CPU again, 11 costs a hundred times as much.
gzip level 4 sends 0.33 for ~0.10 ms; 6 saves under a point for 40% more.
"""

import re
import zlib
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache
from typing import Literal

import brotli
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

Coding = Literal["br", "gzip"]

MINIMUM_SIZE = 500  # bytes; below this the headers outweigh the saving
BROTLI_QUALITY = 4
GZIP_LEVEL = 4
COMPRESSIBLE = frozenset(
    {
        "text/html",
        "text/css",
        "text/plain",
        "text/javascript",
        "text/xml",
        "application/javascript",
        "application/json",
        "application/problem+json",
        "application/atom+xml",
        "application/xml",
    }
)
# A quality value as RFC 9110 (12.4.2) writes it: 0 to 1, at most three decimals.
_QVALUE = re.compile(r"\s*q\s*=\s*(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)\s*$", re.IGNORECASE)
_VARIANT_SUFFIX = re.compile(r'-(?:br|gzip)"')


@lru_cache(maxsize=256)  # browsers send a handful of distinct values
def preferred_coding(accept_encoding: str) -> Coding | None:
    """The coding to answer with: the highest q-value among br and gzip (`*` stands for the
    ones not named), `br` when they tie; None when neither is acceptable."""
    named: dict[str, float] = {}
    for item in accept_encoding.split(","):
        coding, _, params = item.partition(";")
        coding = coding.strip().lower()
        if not coding:
            continue
        quality = 1.0
        for param in params.split(";") if params else ():
            if param.partition("=")[0].strip().lower() == "q":
                match = _QVALUE.match(param)
                quality = float(match.group(1)) if match else 0.0  # unreadable: not acceptable
        named[coding] = quality
    wildcard = named.get("*", 0.0)
    qualities = {coding: named.get(coding, wildcard) for coding in ("br", "gzip")}
    best: Coding = "br" if qualities["br"] >= qualities["gzip"] else "gzip"
    return best if qualities[best] > 0 else None


def coding_for(scope: Scope) -> Coding | None:
    """The coding this request's Accept-Encoding asks for (every field of it, joined)."""
    values = [
        value.decode("latin-1") for name, value in scope["headers"] if name == b"accept-encoding"
    ]
    return preferred_coding(", ".join(values)) if values else None


def compress(body: bytes, coding: Coding) -> bytes:
    if coding == "br":
        return brotli.compress(body, quality=BROTLI_QUALITY)
    return gzip_bytes(body)


def gzip_bytes(body: bytes) -> bytes:
    # zlib directly, with gzip's header and no file name or time: the same bytes every time.
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return compressor.compress(body) + compressor.flush()


def variant_etag(etag: str, coding: Coding) -> str:
    """The compressed variant's validator: a strong tag gets the coding's suffix; a weak one
    already allows any equivalent bytes and is kept."""
    if etag.startswith('"') and etag.endswith('"') and len(etag) >= 2:
        return f'{etag[:-1]}-{coding}"'
    return etag


def is_compressible(headers: Headers) -> bool:
    media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
    return media_type in COMPRESSIBLE


class VariantCache:
    """Compressed bodies by entity tag and coding, the least recently used dropped first: a
    document that many clients fetch unchanged (a feed, a sitemap) is compressed once per
    version, not once per request."""

    def __init__(self, max_entries: int = 256) -> None:
        self.max_entries = max_entries
        self.compressions = 0
        self._entries: OrderedDict[tuple[str, Coding], bytes] = OrderedDict()

    def get(self, etag: str, coding: Coding, body: bytes) -> bytes:
        key = (etag, coding)
        compressed = self._entries.get(key)
        if compressed is None:
            compressed = self._entries[key] = compress(body, coding)
            self.compressions += 1
            if len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        else:
            self._entries.move_to_end(key)
        return compressed


class _Stream:
    """An encoder for a body sent in several messages; each part is flushed as it goes."""

    def __init__(self, coding: Coding) -> None:
        if coding == "br":
            encoder = brotli.Compressor(quality=BROTLI_QUALITY)
            self.process: Callable[[bytes], bytes] = encoder.process
            self.flush: Callable[[], bytes] = encoder.flush  # type: ignore[attr-defined]
            self.finish: Callable[[], bytes] = encoder.finish
        else:
            gzip = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
            self.process = gzip.compress
            self.flush = lambda: gzip.flush(zlib.Z_SYNC_FLUSH)
            self.finish = gzip.flush

    def part(self, body: bytes, *, last: bool) -> bytes:
        return self.process(body) + (self.finish() if last else self.flush())


class CompressionMiddleware:
    def __init__(self, app: ASGIApp, *, minimum_size: int = MINIMUM_SIZE) -> None:
        self.app = app
        self.minimum_size = minimum_size
        self.variants = VariantCache()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        coding = coding_for(scope)
        sent_tags = _strip_variant_tags(scope)
        if sent_tags is not None:
            scope = sent_tags[0]
        start: Message | None = None
        stream: _Stream | None = None

        async def send_compressed(message: Message) -> None:
            nonlocal start, stream
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                status = message["status"]
                if status == 304 and sent_tags is not None:
                    _restore_sent_tag(headers, sent_tags[1])
                if status in (204, 304) or not is_compressible(headers):
                    await send(message)
                    return
                add_vary(headers)
                if coding is None or "content-encoding" in headers or status == 206:
                    await send(message)
                    return
                start = message  # held until the first body part says how big it is
                return
            if start is None or message["type"] != "http.response.body":
                if start is not None:  # e.g. http.response.pathsend: sent as the app made it
                    await send(start)
                    start = None
                await send(message)
                return
            assert coding is not None
            body: bytes = message.get("body", b"")
            more = message.get("more_body", False)
            headers = MutableHeaders(scope=start)
            if stream is None:
                if not more and len(body) < self.minimum_size:
                    await send(start)
                    start = None
                    await send(message)
                    return
                etag = headers.get("etag")
                _mark_encoded(headers, coding)
                if not more:
                    # A strong ETag names these exact bytes: a page sent again unchanged (a
                    # public page the process keeps, fastblog.web.kept_pages) is compressed
                    # once per version, not once per request.
                    if etag is not None and not etag.startswith("W/"):
                        body = self.variants.get(etag, coding, body)
                    else:
                        body = compress(body, coding)
                    headers["content-length"] = str(len(body))
                    await send(start)
                    start = None
                    await send({**message, "body": body})
                    return
                del headers["content-length"]
                await send(start)
                stream = _Stream(coding)
            await send({**message, "body": stream.part(body, last=not more)})
            if not more:
                start = None

        await self.app(scope, receive, send_compressed)


def add_vary(headers: MutableHeaders) -> None:
    vary = headers.get("vary", "")
    if "accept-encoding" not in vary.lower():
        headers["vary"] = f"{vary}, Accept-Encoding" if vary else "Accept-Encoding"


def _mark_encoded(headers: MutableHeaders, coding: Coding) -> None:
    headers["content-encoding"] = coding
    etag = headers.get("etag")
    if etag is not None:
        headers["etag"] = variant_etag(etag, coding)


def _strip_variant_tags(scope: Scope) -> tuple[Scope, dict[str, str]] | None:
    """If-None-Match without our coding suffixes (the scope to pass on), and which tag each
    stripped one was; None when the request has no such tag."""
    headers = scope["headers"]
    for index, (name, value) in enumerate(headers):
        if name == b"if-none-match":
            tags = value.decode("latin-1")
            if not _VARIANT_SUFFIX.search(tags):
                return None
            sent = {_VARIANT_SUFFIX.sub('"', tag.strip()): tag.strip() for tag in tags.split(",")}
            stripped = (name, _VARIANT_SUFFIX.sub('"', tags).encode("latin-1"))
            return {**scope, "headers": [*headers[:index], stripped, *headers[index + 1 :]]}, sent
    return None


def _restore_sent_tag(headers: MutableHeaders, sent: dict[str, str]) -> None:
    etag = headers.get("etag")
    if etag is not None and etag in sent:
        headers["etag"] = sent[etag]
