"""A remote ActivityPub server for the federation suite, built on code the app does not share.

It signs and verifies HTTP Signatures with apsig (draft-cavage, rsa-sha256, as Mastodon does),
never with fastblog's own signing code, so a bug the app's signer and verifier share cannot
hide here. It serves one actor (a Mastodon-shaped Person with its key), WebFinger and the notes
it wrote, on a loopback address of its own (127.0.0.2 and up: the app sees another host), in a
real uvicorn server on a thread of its own; it records every POST to its inboxes after checking
the signature against the key it fetches from the signer's actor, as Mastodon would.
"""

import base64
import contextlib
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any
from urllib.parse import urldefrag

import httpx
import uvicorn
from apsig.draft.sign import Signer
from apsig.draft.verify import Verifier
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bench.live import free_port, ssl_context
from tests.federation.remote_fixtures import mastodon_headers, mastodon_person

ACTIVITY_JSON = "application/activity+json"
AP_ACCEPT = f'{ACTIVITY_JSON}, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
# What Mastodon signs on a POST (its Request class; tests/federation/fixtures/README.md).
MASTODON_SIGNED_HEADERS = ("(request-target)", "host", "date", "digest", "content-type")
# What Mastodon insists on before it believes a POST: the request, the host, the time, the body.
REQUIRED_SIGNED = {"(request-target)", "host", "date", "digest"}
USER_AGENT = "apsig-remote/0.6 (fastblog federation suite)"
START_TIMEOUT = 20.0
WAIT_TIMEOUT = 30.0  # a delivery goes through the app's outbox: polls and a loaded machine


@dataclass(frozen=True)
class Delivery:
    """One POST that reached the remote's inboxes, and what its verification found."""

    path: str
    activity: dict[str, Any]
    headers: dict[str, str]
    key_id: str | None
    problem: str  # why the signature was refused; "" when it verified

    @property
    def verified(self) -> bool:
        return not self.problem

    @property
    def type(self) -> str:
        return str(self.activity.get("type", ""))

    @property
    def object(self) -> Any:
        return self.activity.get("object")

    @property
    def object_id(self) -> Any:
        value = self.object
        return value.get("id") if isinstance(value, dict) else value


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem_of(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


class RemoteServer:
    """One remote server on `host` with one actor, `username`; `with` starts and stops it."""

    def __init__(self, host: str = "127.0.0.2", username: str = "bob", name: str = "Bob") -> None:
        self.host, self.username, self.name = host, username, name
        self.port = free_port(host)
        self.base = f"http://{host}:{self.port}"
        self.actor_id = f"{self.base}/users/{username}"
        self.key_id = f"{self.actor_id}#main-key"
        self.inbox = f"{self.actor_id}/inbox"
        self.shared_inbox = f"{self.base}/inbox"
        self.followers = f"{self.actor_id}/followers"
        self.profile_url = f"{self.base}/@{username}"
        self.acct = f"{username}@{host}:{self.port}"
        self.key = new_key()
        self.public_pem = pem_of(self.key)
        self.objects: dict[str, dict[str, Any]] = {}  # what it serves by id: the notes it wrote
        self.deliveries: list[Delivery] = []
        self.fetches: list[str] = []  # the paths the app GETs here (actor, key, notes)
        self._changed = threading.Condition()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # The server's life: `with` starts and stops it; stop() and start() again is a server
    # that was down for a while, at the same address with the same actor and key.
    def start(self) -> None:
        config = uvicorn.Config(
            self._app(), host=self.host, port=self.port, log_level="warning", lifespan="off"
        )
        self._server = server = uvicorn.Server(config)
        self._thread = thread = threading.Thread(
            target=server.run, name=f"remote-{self.host}", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the remote server on {self.base} did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)
            self._server = self._thread = None

    def __enter__(self) -> "RemoteServer":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # What it serves.
    def person(self) -> dict[str, Any]:
        """The actor, shaped as Mastodon serves one (fixtures/mastodon_person.json)."""
        return mastodon_person(self)

    def _app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/webfinger", self._webfinger),
                Route(f"/users/{self.username}", self._actor),
                Route(f"/users/{self.username}/inbox", self._receive, methods=["POST"]),
                Route("/inbox", self._receive, methods=["POST"]),
                Route("/{path:path}", self._object),
            ]
        )

    async def _webfinger(self, request: Request) -> Response:
        if request.query_params.get("resource") != f"acct:{self.acct}":
            return JSONResponse({"error": "no such account"}, status_code=404)
        links = [{"rel": "self", "type": ACTIVITY_JSON, "href": self.actor_id}]
        return JSONResponse(
            {"subject": f"acct:{self.acct}", "links": links},
            media_type="application/jrd+json",
        )

    async def _actor(self, request: Request) -> Response:
        self._note_fetch(request)
        return JSONResponse(self.person(), media_type=ACTIVITY_JSON)

    async def _object(self, request: Request) -> Response:
        self._note_fetch(request)
        found = self.objects.get(f"{self.base}{request.url.path}")
        if found is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        return JSONResponse(found, media_type=ACTIVITY_JSON)

    def _note_fetch(self, request: Request) -> None:
        with self._changed:
            self.fetches.append(request.url.path)

    async def _receive(self, request: Request) -> Response:
        body = await request.body()
        headers = dict(request.headers)
        try:
            activity = json.loads(body)
        except ValueError:
            return JSONResponse({"error": "not JSON"}, status_code=400)
        key_id, problem = await self._verify(request, headers, body, activity)
        delivery = Delivery(request.url.path, activity, headers, key_id, problem)
        with self._changed:
            self.deliveries.append(delivery)
            self._changed.notify_all()
        if problem:
            return JSONResponse({"error": problem}, status_code=401)
        return Response(status_code=202)

    async def _verify(
        self, request: Request, headers: dict[str, str], body: bytes, activity: Any
    ) -> tuple[str | None, str]:
        """(key id, problem): Mastodon's checks, with apsig doing the cryptography."""
        fields = signature_fields(headers.get("signature", ""))
        key_id = fields.get("keyId")
        if not key_id:
            return None, "no Signature header with a keyId"
        signed = set(fields.get("headers", "date").split())
        if missing := REQUIRED_SIGNED - signed:
            return key_id, f"not signed: {' '.join(sorted(missing))}"
        try:
            pem, owner = await self._key_of(key_id)
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            return key_id, f"the key {key_id} could not be fetched: {exc!r}"
        if not isinstance(activity, dict) or activity.get("actor") != owner:
            return key_id, f"signed by {owner}, but the activity's actor is someone else"
        if not digest_matches(headers.get("digest", ""), body):
            return key_id, f"Digest mismatch: {headers.get('digest')!r}"
        # apsig's verifier wants algorithm="rsa-sha256" and compares the Digest header to its
        # own spelling, "SHA-256="; Mastodon also takes an absent algorithm or "hs2019", and
        # any case of the digest's name. The Signature header is not itself signed, and the
        # digest was checked above: so apsig gets the normalised header and no body.
        if fields.get("algorithm", "hs2019") == "hs2019":
            headers = {**headers, "signature": with_rsa_sha256(fields)}
        try:
            Verifier(pem, request.method, str(request.url), headers, b"").verify(raise_on_fail=True)
        except Exception as exc:  # apsig raises its own errors and ValueError alike
            return key_id, f"signature refused: {exc}"
        return key_id, ""

    async def _key_of(self, key_id: str) -> tuple[str, str]:
        """The PEM and owner of `key_id`, read from the actor document it belongs to."""
        actor_url = urldefrag(key_id).url
        async with httpx.AsyncClient(timeout=10, trust_env=False, verify=ssl_context()) as client:
            response = await client.get(actor_url, headers={"Accept": AP_ACCEPT})
        response.raise_for_status()
        actor = response.json()
        key = actor["publicKey"]
        if key["id"] != key_id or key["owner"] != actor["id"]:
            raise ValueError(f"{actor_url} does not claim the key {key_id}")
        return key["publicKeyPem"], actor["id"]

    # What it sends.
    def signed_headers(
        self,
        url: str,
        body: bytes,
        *,
        key: rsa.RSAPrivateKey | None = None,
        signed: Sequence[str] = MASTODON_SIGNED_HEADERS,
        extra: dict[str, str] | None = None,
    ) -> dict[str, str]:
        """The headers of a POST of `body` to `url`, signed by apsig as Mastodon signs."""
        headers = {"content-type": ACTIVITY_JSON, "user-agent": USER_AGENT}
        headers.update({name.lower(): value for name, value in (extra or {}).items()})
        headers["date"] = formatdate(usegmt=True)
        headers["digest"] = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
        signer = Signer(
            headers=headers,
            private_key=key or self.key,
            method="POST",
            url=url,
            key_id=self.key_id,
            body=body,
            signed_headers=list(signed),
        )
        result = dict(signer.sign())
        # apsig also writes `Authorization: Signature …`; Mastodon sends `Signature` alone.
        result.pop("Authorization", None)
        return result

    def post(
        self,
        url: str,
        activity: dict[str, Any],
        *,
        signed: bool = True,
        key: rsa.RSAPrivateKey | None = None,
        body_after_signing: bytes | None = None,
    ) -> httpx.Response:
        """POST `activity` to an inbox, signed (or not, or by another key, or with a body
        changed after signing)."""
        body = json.dumps(activity).encode()
        if signed:
            headers = self.signed_headers(url, body, key=key)
        else:
            headers = {"content-type": ACTIVITY_JSON, "date": formatdate(usegmt=True)}
        return httpx.post(
            url,
            content=body_after_signing or body,
            headers=headers,
            timeout=30,
            trust_env=False,
            verify=ssl_context(),
        )

    def post_body(self, url: str, body: bytes) -> httpx.Response:
        """POST `body` as it is (not necessarily an activity), signed."""
        headers = self.signed_headers(url, body)
        return httpx.post(
            url, content=body, headers=headers, timeout=30, trust_env=False, verify=ssl_context()
        )

    def post_as_mastodon(self, url: str, activity: dict[str, Any]) -> httpx.Response:
        """POST `activity` with the headers Mastodon sends (its names, its signed list)."""
        body = json.dumps(activity).encode()
        headers = mastodon_headers(self, url, body)
        return httpx.post(
            url, content=body, headers=headers, timeout=30, trust_env=False, verify=ssl_context()
        )

    def webfinger(self, site: str, acct: str) -> dict[str, Any]:
        """What `acct` (user@host) is, asked of `site` as a remote server asks."""
        response = httpx.get(
            f"{site}/.well-known/webfinger",
            params={"resource": f"acct:{acct}"},
            headers={"Accept": "application/jrd+json"},
            timeout=30,
            trust_env=False,
            verify=ssl_context(),
        )
        response.raise_for_status()
        document: dict[str, Any] = response.json()
        return document

    def webfinger_status(self, site: str, acct: str) -> int:
        response = httpx.get(
            f"{site}/.well-known/webfinger",
            params={"resource": f"acct:{acct}"},
            timeout=30,
            trust_env=False,
            verify=ssl_context(),
        )
        return response.status_code

    def fetch(self, url: str) -> httpx.Response:
        """GET `url` as ActivityPub software does (the Accept header Mastodon sends)."""
        return httpx.get(
            url, headers={"Accept": AP_ACCEPT}, timeout=30, trust_env=False, verify=ssl_context()
        )

    # What it saw.
    def wait_for(
        self,
        matches: Callable[[Delivery], bool],
        *,
        what: str,
        count: int = 1,
        timeout: float = WAIT_TIMEOUT,
    ) -> list[Delivery]:
        """The deliveries that match once there are `count`, waiting at most `timeout`."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(found := [d for d in self.deliveries if matches(d)]) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(d.path, d.type, d.object_id, d.problem) for d in self.deliveries]
                    raise AssertionError(f"no {what} within {timeout} s; received: {seen}")
                self._changed.wait(left)
        return found

    def received(self, matches: Callable[[Delivery], bool]) -> list[Delivery]:
        with self._changed:
            return [d for d in self.deliveries if matches(d)]

    # Writing notes, as a Mastodon account does.
    def status_id(self, n: int) -> str:
        return f"{self.actor_id}/statuses/{n}"


def signature_fields(header: str) -> dict[str, str]:
    """The parameters of a draft-cavage Signature header (keyId, headers, signature, ...)."""
    fields: dict[str, str] = {}
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name and value:
            fields[name] = value.strip('"')
    return fields


def digest_matches(header: str, body: bytes) -> bool:
    """Whether a `Digest: SHA-256=...` header (the name in any case) is the body's."""
    name, _, value = header.partition("=")
    expected = base64.b64encode(hashlib.sha256(body).digest()).decode()
    return name.strip().lower() == "sha-256" and value.strip() == expected


def with_rsa_sha256(fields: dict[str, str]) -> str:
    """The Signature header again, with algorithm="rsa-sha256"."""
    return ",".join(
        f'{name}="{value}"' for name, value in {**fields, "algorithm": "rsa-sha256"}.items()
    )


@contextlib.contextmanager
def remote_servers(*hosts: str) -> Iterator[list[RemoteServer]]:
    """Started remote servers, one per loopback address, each with its own actor."""
    names = ["bob", "carol", "dave", "erin"]
    with contextlib.ExitStack() as stack:
        yield [
            stack.enter_context(RemoteServer(host, names[n], names[n].title()))
            for n, host in enumerate(hosts)
        ]
