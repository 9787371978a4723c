"""The federation tests' parts: the app with federation on (PUBLIC_BASE_URL set), and a
small remote server of our own on a loopback port (aiohttp, a real HTTP server): an actor
with its own RSA key and an inbox that keeps what it is sent. The independent implementation
the app is tested against lives beside these (apremote's files)."""

import base64
import hashlib
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from fastapi import FastAPI

from fastblog.federation.runtime import Federation
from tests.asgi import asgi_transport
from tests.auth.conftest import AppFactory, make_app
from tests.federation.remote_site import Blog, database, federated_blog

SITE = "https://blog.example"
ACTIVITY_JSON = "application/activity+json"


def federation_of(app: FastAPI) -> Federation:
    state: dict[str, Any] = app.state._test_lifespan_state
    federation: Federation = state["federation"]
    return federation


@dataclass
class RemoteServer:
    """A fediverse server of the test's own: one actor, `alice`, and an inbox."""

    base: str
    key: rsa.RSAPrivateKey
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)  # statuses to answer, then 202
    documents: dict[str, Any] = field(default_factory=dict)  # more paths it serves

    @property
    def actor(self) -> str:
        return f"{self.base}/users/alice"

    @property
    def key_id(self) -> str:
        return f"{self.actor}#main-key"

    @property
    def inbox(self) -> str:
        return f"{self.base}/users/alice/inbox"

    @property
    def shared_inbox(self) -> str:
        return f"{self.base}/inbox"

    def public_pem(self) -> str:
        return (
            self.key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def person(self) -> dict[str, Any]:
        return {
            "@context": ["https://www.w3.org/ns/activitystreams"],
            "id": self.actor,
            "type": "Person",
            "preferredUsername": "alice",
            "name": "Alice Remote",
            "url": f"{self.base}/@alice",
            "inbox": self.inbox,
            "endpoints": {"sharedInbox": self.shared_inbox},
            "publicKey": {
                "id": self.key_id,
                "owner": self.actor,
                "publicKeyPem": self.public_pem(),
            },
        }

    def activities(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.received]


def cavage_headers(
    key: rsa.RSAPrivateKey, key_id: str, url: str, body: bytes, *, date: datetime | None = None
) -> dict[str, str]:
    """Signed as Mastodon signs, built here by hand (not with the app's own code)."""
    parts = urlsplit(url)
    digest = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
    when = format_datetime(date or datetime.now(UTC), usegmt=True)
    text = (
        f"(request-target): post {parts.path}\nhost: {parts.netloc}\ndate: {when}\ndigest: {digest}"
    )
    signature = base64.b64encode(key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256()))
    return {
        "Host": parts.netloc,
        "Date": when,
        "Digest": digest,
        "Content-Type": ACTIVITY_JSON,
        "Signature": f'keyId="{key_id}",algorithm="rsa-sha256",'
        f'headers="(request-target) host date digest",signature="{signature.decode()}"',
    }


def verifies(public_pem: str, headers: dict[str, str], path: str, method: str = "post") -> bool:
    """Whether a request the app sent carries a cavage signature its key verifies."""
    params = dict(part.split("=", 1) for part in headers["signature"].replace('"', "").split(","))
    lines = []
    for name in params["headers"].split():
        value = f"{method} {path}" if name == "(request-target)" else headers[name]
        lines.append(f"{name}: {value}")
    key = serialization.load_pem_public_key(public_pem.encode())
    assert isinstance(key, rsa.RSAPublicKey)
    try:
        key.verify(
            base64.b64decode(params["signature"]),
            "\n".join(lines).encode(),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except Exception:
        return False
    return True


@pytest.fixture(
    scope="package", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def blog(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Blog]:
    """The live federated blog (a `fastblog serve` process) of test_against_remote and
    test_against_mastodon, shared by both: one worker runs the two modules (ONE_WORK_UNIT in
    tests/conftest.py), so each database's server starts once, not once a module (~3 CPU-s).
    Their tests cannot disturb each other: each signs up authors of its own, and each remote
    actor has an address of its own (127.0.0.2 and 3 there, 127.0.0.4 here). For the package,
    not the session: stopped once the worker's next test is elsewhere, not left polling."""
    with (
        database(request.param) as database_url,
        federated_blog(database_url, tmp_path_factory.mktemp("blog")) as blog,
    ):
        yield blog


@pytest.fixture(scope="session")
def remote_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
async def remote(remote_key: rsa.RSAPrivateKey) -> AsyncIterator[RemoteServer]:
    server = RemoteServer(base="", key=remote_key)

    async def actor(request: web.Request) -> web.Response:
        return web.json_response(server.person(), content_type=ACTIVITY_JSON)

    async def inbox(request: web.Request) -> web.Response:
        body = await request.read()
        server.received.append(({k.lower(): v for k, v in request.headers.items()}, body))
        status = server.answers.pop(0) if server.answers else 202
        return web.Response(status=status)

    async def document(request: web.Request) -> web.Response:
        found = server.documents.get(request.path)
        if found is None:
            return web.Response(status=404)
        if isinstance(found, tuple):  # (status, headers)
            return web.Response(status=found[0], headers=found[1])
        if isinstance(found, bytes):
            return web.Response(body=found, content_type=ACTIVITY_JSON)
        return web.json_response(found, content_type=ACTIVITY_JSON)

    app = web.Application()
    app.router.add_get("/users/alice", actor)
    app.router.add_post("/users/alice/inbox", inbox)
    app.router.add_post("/inbox", inbox)
    app.router.add_get("/{tail:.*}", document)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    server.base = f"http://127.0.0.1:{port}"
    try:
        yield server
    finally:
        await runner.cleanup()


@pytest.fixture
async def fed_app(make_app: AppFactory) -> FastAPI:
    return await make_app(
        public_base_url=SITE,
        federation_allow_private_addresses=True,
        federation_poll_seconds=0.05,
        post_schedule_poll_seconds=3600,  # scheduled posts: a test runs the pass itself
        outbox_retry_seconds=0.05,
        allowed_hosts=["blog.example", "testserver"],
    )


@pytest.fixture
async def ap(fed_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=asgi_transport(fed_app), base_url=SITE) as client:
        yield client


async def post_activity(
    client: httpx.AsyncClient, remote: RemoteServer, path: str, activity: dict[str, Any]
) -> httpx.Response:
    body = json.dumps(activity).encode()
    headers = cavage_headers(remote.key, remote.key_id, f"{SITE}{path}", body)
    return await client.post(path, content=body, headers=headers)


__all__ = ["make_app"]
