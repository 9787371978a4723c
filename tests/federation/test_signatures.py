"""HTTP signatures: the cavage signing string against Mastodon's documented example, our
signatures verified, RFC 9421 signatures made by the http-message-signatures library
verified, digests and dates checked, and a changed key fetched again once."""

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from http_message_signatures import HTTPMessageSigner, algorithms
from http_message_signatures.resolvers import MappingKeyResolver

from fastblog.federation.signatures import (
    SignatureError,
    SignedRequest,
    sign_headers,
    signing_string,
    verify,
)
from tests.federation.conftest import cavage_headers

pytestmark = pytest.mark.anyio

URL = "https://blog.example/ap/inbox"
KEY_ID = "https://remote.example/users/alice#main-key"
ACTOR = "https://remote.example/users/alice"


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def test_the_signing_string_is_mastodons_documented_one() -> None:
    """docs.joinmastodon.org/spec/security/#http-sign: the GET example's signed string."""
    headers = {"host": "mastodon.example", "date": "18 Dec 2019 10:08:46 GMT"}
    text = signing_string(
        "GET", "/users/username/outbox", headers, ["(request-target)", "host", "date"]
    )
    assert text == (
        "(request-target): get /users/username/outbox\n"
        "host: mastodon.example\n"
        "date: 18 Dec 2019 10:08:46 GMT"
    )


class Keys:
    """A key lookup that counts its fetches; `stale` is answered first when refreshing."""

    def __init__(self, pem: str, stale: str | None = None) -> None:
        self.pem, self.stale, self.calls = pem, stale, []

    async def __call__(self, key_id: str, refresh: bool) -> tuple[str, str] | None:
        self.calls.append(refresh)
        if key_id != KEY_ID:
            return None
        return ACTOR, (self.stale if self.stale and not refresh else self.pem)


def lower(headers: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


async def test_a_mastodon_style_signature_verifies_and_a_tampered_one_does_not(
    remote_key: rsa.RSAPrivateKey,
) -> None:
    body = json.dumps({"type": "Follow"}).encode()
    headers = lower(cavage_headers(remote_key, KEY_ID, URL, body))
    keys = Keys(public_pem(remote_key))
    assert await verify(SignedRequest("POST", URL, headers, body), keys) == ACTOR
    with pytest.raises(SignatureError, match="Digest"):
        await verify(SignedRequest("POST", URL, headers, body + b" "), keys)
    moved = {**headers, "host": "other.example"}
    with pytest.raises(SignatureError, match="does not verify"):
        await verify(SignedRequest("POST", URL, moved, body), keys)
    old = lower(
        cavage_headers(remote_key, KEY_ID, URL, body, date=datetime.now(UTC) - timedelta(hours=13))
    )
    with pytest.raises(SignatureError, match="12 hours"):
        await verify(SignedRequest("POST", URL, old, body), keys)


async def test_our_own_signatures_verify(remote_key: rsa.RSAPrivateKey) -> None:
    body = b'{"type": "Create"}'
    headers = lower(
        sign_headers(method="POST", url=URL, body=body, key_id=KEY_ID, private_key=remote_key)
    )
    assert headers["host"] == "blog.example"
    assert 'headers="(request-target) host date digest"' in headers["signature"]
    assert await verify(SignedRequest("POST", URL, headers, body), Keys(public_pem(remote_key)))


async def test_a_changed_key_is_fetched_again_once(remote_key: rsa.RSAPrivateKey) -> None:
    body = b"{}"
    headers = lower(cavage_headers(remote_key, KEY_ID, URL, body))
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    keys = Keys(public_pem(remote_key), stale=public_pem(other))
    assert await verify(SignedRequest("POST", URL, headers, body), keys) == ACTOR
    assert keys.calls == [False, True]
    wrong = Keys(public_pem(other))
    with pytest.raises(SignatureError):
        await verify(SignedRequest("POST", URL, headers, body), wrong)
    assert wrong.calls == [False, True]  # once, not again and again


class _Request:
    def __init__(self, body: bytes) -> None:
        self.method = "POST"
        self.url = URL
        self.headers: dict[str, str] = {"Content-Type": "application/activity+json"}


async def test_an_rfc_9421_signature_made_by_another_library_verifies(
    remote_key: rsa.RSAPrivateKey,
) -> None:
    body = b'{"type": "Like"}'
    request = _Request(body)
    signer = HTTPMessageSigner(
        signature_algorithm=algorithms.RSA_V1_5_SHA256,
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={KEY_ID: remote_key}),
    )
    signer.sign(
        request,
        key_id=KEY_ID,
        covered_component_ids=("@method", "@target-uri", "content-digest"),
        created=datetime.now(UTC),
        body=body,  # the library adds Content-Digest
    )
    headers = lower(request.headers)
    keys = Keys(public_pem(remote_key))
    assert await verify(SignedRequest("POST", URL, headers, body), keys) == ACTOR
    with pytest.raises(SignatureError):
        await verify(SignedRequest("POST", URL, headers, b'{"type": "Undo"}'), keys)
    with pytest.raises(SignatureError):
        await verify(SignedRequest("POST", URL + "x", headers, body), keys)


async def test_unsigned_requests_are_refused() -> None:
    when = format_datetime(datetime.now(UTC), usegmt=True)
    with pytest.raises(SignatureError, match="not signed"):
        await verify(SignedRequest("POST", URL, {"date": when}, b"{}"), Keys(""))
