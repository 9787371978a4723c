"""HTTP signatures: draft-cavage as Mastodon sends them (`(request-target) host date digest`,
rsa-sha256), RFC 9421 when a request carries `Signature-Input` (verified by the
http-message-signatures library), and the body's `Digest` or `Content-Digest`.

The cavage signing string is small and ours (tested against Mastodon's documented example);
the RSA arithmetic is the `cryptography` package's. Both stay on the event loop: measured on
the 2-core machine at load 20, an RSA-2048 verification took 0.33 ms and a signature 3.3 ms
(about 1 ms unloaded), of the order of a round trip to the process pool; one signature is made
per delivery (per shared inbox, not per follower). Key generation (0.5 s) goes to the pool.
"""

import base64
import hashlib
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import http_sf
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from http_message_signatures import (
    ContentDigest,
    HTTPMessageSignaturesException,
    HTTPMessageVerifier,
    MappingKeyResolver,
    algorithms,
)

MAX_DATE_SKEW = timedelta(hours=12)
SIGNED_HEADERS = ("(request-target)", "host", "date", "digest")
_PARAM = re.compile(r'(\w+)="([^"]*)"')


class SignatureError(Exception):
    """The request is unsigned, badly signed, or its digest or date is wrong (a 401)."""


# Given a key id and whether to fetch it afresh: the signer's actor id and public key PEM, or
# None when no key can be had.
KeyLookup = Callable[[str, bool], Awaitable[tuple[str, str] | None]]


@dataclass(frozen=True, slots=True)
class SignedRequest:
    method: str
    url: str  # absolute, as the signer addressed it
    headers: Mapping[str, str]  # names in lower case
    body: bytes


def digest_header(body: bytes) -> str:
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


def http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def signing_string(method: str, target: str, headers: Mapping[str, str], names: list[str]) -> str:
    """The cavage signing string: one `name: value` line per signed header, in order;
    `(request-target)` is the method in lower case and the path with its query."""
    lines = []
    for name in names:
        if name == "(request-target)":
            lines.append(f"(request-target): {method.lower()} {target}")
        elif name in headers:
            lines.append(f"{name}: {headers[name]}")
        else:
            raise SignatureError(f"The signed header {name!r} is missing")
    return "\n".join(lines)


def parse_cavage(value: str) -> dict[str, str]:
    return dict(_PARAM.findall(value))


def sign_headers(
    *, method: str, url: str, body: bytes | None, key_id: str, private_key: rsa.RSAPrivateKey
) -> dict[str, str]:
    """The headers that sign a request as Mastodon does (Host, Date, Digest, Signature)."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = {"host": parts.netloc, "date": http_date(datetime.now(UTC))}
    names = ["(request-target)", "host", "date"]
    if body is not None:
        headers["digest"] = digest_header(body)
        names.append("digest")
    text = signing_string(method, target, headers, names)
    signature = private_key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
    headers["signature"] = (
        f'keyId="{key_id}",algorithm="rsa-sha256",headers="{" ".join(names)}",'
        f'signature="{base64.b64encode(signature).decode()}"'
    )
    return {name.title(): value for name, value in headers.items()}


def load_private_key(pem: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA key")
    return key


def _public_key(pem: str) -> rsa.RSAPublicKey:
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except ValueError as exc:
        raise SignatureError("The signer's key cannot be read") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise SignatureError("The signer's key is not an RSA key")
    return key


def check_digest(request: SignedRequest) -> None:
    headers, body = request.headers, request.body
    if "content-digest" in headers:
        try:
            ContentDigest.verify(headers["content-digest"], body)
        except Exception as exc:  # the library raises its own and ValueError
            raise SignatureError("Content-Digest does not match the body") from exc
        return
    if "digest" in headers:
        for part in headers["digest"].split(","):
            algorithm, _, value = part.strip().partition("=")
            if algorithm.lower() == "sha-256":
                if value == digest_header(body).removeprefix("SHA-256="):
                    return
                raise SignatureError("Digest does not match the body")
        raise SignatureError("Digest has no SHA-256 value")
    if body:
        raise SignatureError("A Digest or Content-Digest header is required")


def check_date(headers: Mapping[str, str], now: datetime) -> None:
    if "date" not in headers:
        raise SignatureError("A Date header is required")
    try:
        date = parsedate_to_datetime(headers["date"])
    except (TypeError, ValueError) as exc:
        raise SignatureError("The Date header cannot be read") from exc
    if date.tzinfo is None:
        date = date.replace(tzinfo=UTC)
    if abs(now - date) > MAX_DATE_SKEW:
        raise SignatureError("The Date header is more than 12 hours away")


async def verify(request: SignedRequest, keys: KeyLookup) -> str:
    """Check the request's signature; the signer's actor id. Raises SignatureError."""
    if "signature-input" not in request.headers and "signature" not in request.headers:
        raise SignatureError("The request is not signed")
    check_digest(request)
    if "signature-input" in request.headers:
        key_id = _rfc9421_key_id(request.headers["signature-input"])
        check = _check_rfc9421
    elif "signature" in request.headers:
        check_date(request.headers, datetime.now(UTC))
        key_id = parse_cavage(request.headers["signature"]).get("keyId", "")
        check = _check_cavage
    else:
        raise SignatureError("The request is not signed")
    if not key_id.startswith(("https://", "http://")):
        raise SignatureError("The signature names no key")
    for refresh in (False, True):  # a key that fails may have been changed: fetch it once
        found = await keys(key_id, refresh)
        if found is None:
            raise SignatureError("The signer's key cannot be fetched")
        actor, pem = found
        try:
            check(request, key_id, pem)
        except SignatureError:
            if refresh:
                raise
            continue
        return actor
    raise AssertionError("unreachable")


def _check_cavage(request: SignedRequest, key_id: str, pem: str) -> None:
    params = parse_cavage(request.headers["signature"])
    names = params.get("headers", "date").lower().split()
    required = {"(request-target)", "host", "date"} | ({"digest"} if request.body else set())
    if not required <= set(names) and not (request.body and "content-digest" in names):
        raise SignatureError("The signature must cover (request-target), host, date and digest")
    if params.get("algorithm", "rsa-sha256").lower() not in {"rsa-sha256", "hs2019"}:
        raise SignatureError("Only rsa-sha256 signatures are understood")
    parts = urlsplit(request.url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    text = signing_string(request.method, target, request.headers, names)
    try:
        signature = base64.b64decode(params.get("signature", ""), validate=True)
        _public_key(pem).verify(signature, text.encode(), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError) as exc:
        raise SignatureError("The signature does not verify") from exc


def _rfc9421_key_id(value: str) -> str:
    try:
        inputs: Any = http_sf.parse(value.encode(), tltype="dictionary")
    except Exception as exc:  # http_sf raises ValueError and its own errors
        raise SignatureError("Signature-Input cannot be read") from exc
    for member in inputs.values():
        params = member[1] if isinstance(member, tuple) else {}
        key_id = params.get("keyid")
        if isinstance(key_id, str):
            return key_id
    raise SignatureError("Signature-Input names no key")


@dataclass(frozen=True, slots=True)
class _Message:
    """What http-message-signatures reads of a request."""

    method: str
    url: str
    headers: Mapping[str, str]


def _check_rfc9421(request: SignedRequest, key_id: str, pem: str) -> None:
    verifier = HTTPMessageVerifier(
        signature_algorithm=algorithms.RSA_V1_5_SHA256,
        key_resolver=MappingKeyResolver(public_keys={key_id: pem.encode()}, private_keys={}),
    )
    message = _Message(request.method.upper(), request.url, request.headers)
    try:
        results = verifier.verify(message, max_age=MAX_DATE_SKEW, body=request.body)
    except HTTPMessageSignaturesException as exc:
        raise SignatureError(f"The signature does not verify: {exc}") from exc
    covered = set(results[0].covered_components)
    if '"@method"' not in covered or not covered & {'"@target-uri"', '"@path"'}:
        raise SignatureError("The signature must cover the method and the target")
