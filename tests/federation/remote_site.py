"""The blog the remote servers talk to: a real `fastblog serve` process with federation on,
on a migrated SQLite or PostgreSQL database, and what a test does on it through its API."""

import asyncio
import contextlib
import itertools
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from sqlalchemy import func, pool, select
from sqlalchemy.ext.asyncio import create_async_engine

from bench.live import LiveServer, ssl_context
from fastblog.accounts.tokens import create_access_token
from fastblog.federation import models
from tests.conftest import ExplicitSettings
from tests.factories import PASSWORD, TEST_SECRET_KEY
from tests.federation.remote import AP_ACCEPT, Delivery, RemoteServer
from tests.federation.remote_fixtures import Mastodon
from tests.migrated import migrated_postgres, migrated_sqlite, postgres_url_of
from tests.processes import fastblog_env, fastblog_in_process
from tests.threaded_host import ThreadedHost

PAGE_TIMEOUT = 30.0  # the inbox queues its work: a page shows it a few outbox polls later
# After the queues are empty (Blog.settle): a second sender's POST already on its way as the
# row went (two hosts claiming one row) lands within this on loopback.
SETTLE_SECONDS = 0.5
_names = itertools.count(1)
T = TypeVar("T")


@dataclass(frozen=True)
class Author:
    id: int
    username: str
    headers: dict[str, str]  # Authorization for the blog's API


@dataclass(frozen=True)
class Post:
    id: int
    url: str  # canonical: the page a reader opens
    ap_id: str  # the Article's id, as the page's ActivityPub document gives it


@dataclass
class Blog:
    """One host of the blog. Its ActivityPub ids use PUBLIC_BASE_URL, the same on every host."""

    server: LiveServer

    @property
    def url(self) -> str:
        return self.server.env["PUBLIC_BASE_URL"]

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc

    @property
    def shared_inbox(self) -> str:
        return f"{self.url}/ap/inbox"

    def actor(self, author: Author) -> str:
        return f"{self.url}/users/{author.id}/posts"

    def inbox(self, author: Author) -> str:
        return f"{self.url}/ap/users/{author.id}/inbox"

    def followers(self, author: Author) -> str:
        return f"{self.url}/ap/users/{author.id}/followers"

    def acct(self, author: Author) -> str:
        return f"{author.username}@{self.host}"

    def client(self) -> httpx.Client:
        """A client of this host (which may not be the one PUBLIC_BASE_URL names)."""
        return httpx.Client(
            base_url=self.server.url, timeout=30, trust_env=False, verify=ssl_context()
        )

    def sign_up(self, prefix: str = "author") -> Author:
        username = f"{prefix}{next(_names)}"
        account = {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
        with self.client() as client:
            response = client.post("/api/users", json=account)
        assert response.status_code == 201, response.text
        user_id = response.json()["id"]
        token = create_access_token(user_id, secret=TEST_SECRET_KEY, lifetime=timedelta(hours=1))
        return Author(user_id, username, {"Authorization": f"Bearer {token}"})

    def publish(self, author: Author, title: str, content: str = "Words.") -> Post:
        with self.client() as client:
            response = client.post(
                "/api/posts", json={"title": title, "content": content}, headers=author.headers
            )
            assert response.status_code == 201, response.text
            post_id = response.json()["id"]
            page = client.get(f"/posts/{post_id}", follow_redirects=True)
            assert page.status_code == 200, page.text
            article = client.get(page.url.path, headers={"Accept": AP_ACCEPT})
        assert article.status_code == 200, article.text
        return Post(post_id, f"{self.url}{page.url.path}", article.json()["id"])

    def api_post(self, post: Post) -> dict[str, Any]:
        with self.client() as client:
            response = client.get(f"/api/posts/{post.id}")
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    def page(self, url: str) -> str:
        with self.client() as client:
            response = client.get(url, follow_redirects=True)
        assert response.status_code == 200, response.text
        return response.text

    def federation_cli(self, *args: str) -> tuple[int, str, str]:
        """`fastblog federation ARGS` on the blog's settings, as an admin runs it (exit status,
        stdout, stderr): through the command's `main` in this process, another writer of the
        blog's database, which the server must notice. The installed command in a process of
        its own has its tests (tests/federation/test_blocks.py)."""
        settings = ExplicitSettings(
            **{name.lower(): value for name, value in self.server.env.items()}
        )
        return asyncio.run(fastblog_in_process(settings, "federation", *args))

    def eventually(self, read: Callable[[], T], holds: Callable[[T], bool], *, what: str) -> T:
        """`read()` again until `holds` of it (the inbox's work is queued), within a bound."""
        deadline = time.monotonic() + PAGE_TIMEOUT
        while True:
            value = read()
            if holds(value):
                return value
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{what}: not within {PAGE_TIMEOUT} s; last {value!r:.2000}\n"
                    f"{self.server.log_tail()}"
                )
            time.sleep(0.2)

    def log_lines(self) -> list[str]:
        return self.server.log().splitlines()

    def wait_until_logged(self, *parts: str, timeout: float = 30.0) -> None:
        """Until one line of the server's log holds every one of `parts`."""
        deadline = time.monotonic() + timeout
        while not any(all(part in line for part in parts) for line in self.log_lines()):
            if time.monotonic() > deadline:
                raise AssertionError(f"never logged {parts!r}:\n{self.server.log_tail()}")
            time.sleep(0.05)

    def settle(self) -> None:
        """Until the blog has nothing left to do: no activity waiting in its inbox queue and no
        delivery waiting to go (given-up ones aside), then SETTLE_SECONDS more for a POST that
        was in flight as its row went. An inbox work item becomes its deliveries in one
        transaction, and a delivery's row goes once the inbox took it: whatever the blog was
        going to send has arrived by then (a fixed pause only guessed how long that takes)."""
        deadline = time.monotonic() + PAGE_TIMEOUT
        while (waiting := asyncio.run(work_waiting(self.server.env["DATABASE_URL"]))) != (0, 0):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"(inbound, deliveries) still waiting after {PAGE_TIMEOUT} s: {waiting}\n"
                    f"{self.server.log_tail()}"
                )
            time.sleep(0.1)
        time.sleep(SETTLE_SECONDS)


async def work_waiting(database_url: str) -> tuple[int, int]:
    """(activities in the inbox queue, deliveries not yet taken nor given up) on the blog's
    database."""
    engine = create_async_engine(database_url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            inbound = await connection.scalar(
                select(func.count()).select_from(models.InboundActivity)
            )
            deliveries = await connection.scalar(
                select(func.count())
                .select_from(models.Delivery)
                .where(models.Delivery.failed_at.is_(None))
            )
    finally:
        await engine.dispose()
    return inbound or 0, deliveries or 0


@contextlib.contextmanager
def database(kind: str) -> Iterator[str]:
    """A migrated database of its own, SQLite or PostgreSQL; its URL."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="fastblog-federation-") as folder:
            yield migrated_sqlite(Path(folder) / "fastblog.db")
    else:
        with migrated_postgres() as name:
            yield postgres_url_of(name)


def federated_server(
    database_url: str,
    log_path: Path,
    *,
    public_base_url: str | None = None,
    port: int | None = None,
    lease_seconds: float = 30.0,
    poll_seconds: float = 0.2,
    in_process: bool = False,
) -> LiveServer:
    """`fastblog serve` with federation on, not started yet; its own address is the public one
    unless another host's is given (several hosts of one site). `lease_seconds`: how long a
    delivery this host claimed stays its own; a host that lives through a send keeps it well
    past a loaded machine's stalls (a lease that lapses mid-send lets a host send it again, as
    it should: at least once); a test of a host that dies holding one makes it short.
    `poll_seconds`: how often it looks for what no wake-up announces (retries due, work another
    host queued), 20 database reads a second at 0.2 s (~0.02 CPU-s a second).
    `in_process`: the app on a thread of the test process instead (tests.threaded_host)."""
    kind = ThreadedHost if in_process else LiveServer
    server = kind({}, log_path=log_path, cwd=log_path.parent, port=port)
    server.env = fastblog_env(
        database_url,
        federation="true",
        public_base_url=public_base_url or server.url,
        # The remotes live on 127.0.0.2 and up: private addresses, which a real site refuses.
        federation_allow_private_addresses="true",
        comments="open",  # the site's rule for these tests: a reply shows at once
        write_rate_limits="false",
        outbox_poll_seconds=str(poll_seconds),
        federation_poll_seconds=str(poll_seconds),
        outbox_retry_seconds="0.5",
        outbox_lease_seconds=str(lease_seconds),
        log_level="INFO",
    )
    return server


@contextlib.contextmanager
def federated_blog(database_url: str, folder: Path) -> Iterator[Blog]:
    """One started host, stopped on the way out. Alone on its database, it hears of its work
    from itself (a wake-up), but for a retry: it polls every second, not five times."""
    server = federated_server(database_url, folder / "blog.log", poll_seconds=1.0)
    try:
        server.start()
        server.wait_ready()
        yield Blog(server)
    finally:
        server.stop()


def id_of(value: Any) -> Any:
    return value.get("id") if isinstance(value, dict) else value


def accept_of(follow: dict[str, Any]) -> Callable[[Delivery], bool]:
    return lambda d: d.type == "Accept" and id_of(d.object) == follow["id"]


def create_of(post: Post) -> Callable[[Delivery], bool]:
    return lambda d: d.type == "Create" and id_of(d.object) == post.ap_id


def followers_count(blog: Blog, remote: RemoteServer, author: Author) -> int:
    response = remote.fetch(blog.followers(author))
    assert response.status_code == 200, response.text
    return int(response.json()["totalItems"])


def follow(blog: Blog, remote: RemoteServer, author: Author, *, discover: bool = True) -> Mastodon:
    """`remote`'s actor follows `author`, and gets the blog's signed Accept. First it finds the
    author as Mastodon does (WebFinger, then the actor), unless told not to."""
    if discover:
        found = remote.webfinger(blog.url, blog.acct(author))
        assert any(link.get("href") == blog.actor(author) for link in found["links"]), found
        assert remote.fetch(blog.actor(author)).status_code == 200
    mastodon = Mastodon(remote, author=blog.actor(author), author_acct=blog.acct(author))
    activity = mastodon.follow()
    response = remote.post(blog.inbox(author), activity)
    assert response.status_code == 202, response.text
    (accept,) = remote.wait_for(accept_of(activity), what=f"the Accept of {remote.username}")
    assert accept.verified, accept.problem
    assert accept.activity["actor"] == blog.actor(author)
    assert accept.key_id == f"{blog.actor(author)}#main-key"
    return mastodon


@dataclass
class CommentSeen:
    """One comment on a post's page, as a reader's browser parses it."""

    id: str
    text: str = ""
    links: list[tuple[str, str]] = field(default_factory=list)  # (href, text)
    tags: list[str] = field(default_factory=list)
    attributes: list[tuple[str, str]] = field(default_factory=list)  # (name, value) of every tag

    def scripted(self) -> list[str]:
        """What in it could run script: a script-like tag, an on* handler, a javascript: URL."""
        found = [tag for tag in self.tags if tag in {"script", "iframe", "object", "embed"}]
        for name, value in self.attributes:
            if name.startswith("on"):
                found.append(f"{name}={value}")
            if name in {"href", "src"} and value.strip().lower().startswith("javascript:"):
                found.append(f"{name}={value}")
        return found


class _CommentReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.comments: list[CommentSeen] = []
        self._depth = 0  # of <article> elements inside the current comment
        self._link: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "article" and "comment" in attributes.get("class", "").split():
            self.comments.append(CommentSeen(attributes.get("id", "")))
            self._depth = 1
            return
        if not self._depth:
            return
        if tag == "article":
            self._depth += 1
        current = self.comments[-1]
        current.tags.append(tag)
        current.attributes.extend(attributes.items())
        if tag == "a":
            self._link = (attributes.get("href", ""), [])

    def handle_endtag(self, tag: str) -> None:
        if not self._depth:
            return
        if tag == "a" and self._link is not None:
            href, text = self._link
            self.comments[-1].links.append((href, " ".join("".join(text).split())))
            self._link = None
        if tag == "article":
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._depth:
            self.comments[-1].text += data
            if self._link is not None:
                self._link[1].append(data)


def comments_on(html: str) -> list[CommentSeen]:
    reader = _CommentReader()
    reader.feed(html)
    reader.close()
    for comment in reader.comments:
        comment.text = " ".join(comment.text.split())
    return reader.comments
