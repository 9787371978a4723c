"""Deliveries counted where they land, on the remote's side: a Create queued by a host that is
killed (SIGKILL) while the follower's server is down, after its first attempt failed, arrives
once from the next host, once both are back; two hosts of one site deliver each post once.
Real `fastblog serve` processes on one database (SQLite file or PostgreSQL), but for the host
that takes over after the kill (the app in the test process: tests.threaded_host), the remote
on 127.0.0.5."""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.live import LiveServer
from tests.federation.remote import remote_servers
from tests.federation.remote_site import (
    Blog,
    create_of,
    federated_server,
    follow,
)

# The retry after the crash: host B's start-up, the dead host's lease, a doubled wait.
CRASH_DELIVERY_SECONDS = 90.0


@pytest.fixture
def hosts() -> Iterator[list[LiveServer]]:
    """The blog's hosts a test starts, each stopped at the end (a killed one included)."""
    servers: list[LiveServer] = []
    yield servers
    for server in servers:
        server.stop()


def start(hosts: list[LiveServer], server: LiveServer) -> Blog:
    hosts.append(server)
    server.start()
    server.wait_ready()
    return Blog(server)


def test_a_delivery_queued_by_a_killed_host_arrives_once(
    migrated_database_url: str, hosts: list[LiveServer], tmp_path: Path
) -> None:
    with remote_servers("127.0.0.5") as (bob,):
        # How long the job host A claimed waits, once A is dead, before host B may take it.
        dying = federated_server(migrated_database_url, tmp_path / "a.log", lease_seconds=2)
        blog_a = start(hosts, dying)
        author = blog_a.sign_up()
        follow(blog_a, bob, author)

        bob.stop()  # the follower's server is down: no delivery can succeed
        post = blog_a.publish(author, "Written just before the crash")
        # Queued, claimed and tried once: host A holds the delivery's lease as it dies.
        blog_a.wait_until_logged("Delivery #", "failed (attempt 1)")
        blog_a.server.kill()  # SIGKILL, as when the machine dies
        bob.start()
        time.sleep(1)  # a few of the polls a live host would make
        assert bob.received(create_of(post)) == []  # no host is up: nobody sends it

        # The next host at the same public address, on the same database: the app in this
        # process (tests.threaded_host says why); the killed one was a process of its own.
        blog_b = start(
            hosts,
            federated_server(
                migrated_database_url,
                tmp_path / "b.log",
                public_base_url=blog_a.url,
                port=blog_a.server.port,
                in_process=True,
            ),
        )
        (create,) = bob.wait_for(
            create_of(post), what="the Create after the crash", timeout=CRASH_DELIVERY_SECONDS
        )
        assert create.verified, create.problem
        blog_b.settle()
        assert len(bob.received(create_of(post))) == 1
        assert "Traceback" not in blog_b.server.log()


def test_two_hosts_deliver_each_post_once(
    migrated_database_url: str, hosts: list[LiveServer], tmp_path: Path
) -> None:
    with remote_servers("127.0.0.5") as (bob,):
        blog_a = start(hosts, federated_server(migrated_database_url, tmp_path / "a.log"))
        blog_b = start(
            hosts,
            federated_server(migrated_database_url, tmp_path / "b.log", public_base_url=blog_a.url),
        )
        author = blog_a.sign_up()
        follow(blog_a, bob, author)

        posts = [blog.publish(author, f"Post {n}") for n, blog in enumerate([blog_a, blog_b] * 3)]
        for post in posts:
            bob.wait_for(create_of(post), what=f"the Create of {post.url}")
        blog_a.settle()
        for post in posts:
            deliveries = bob.received(create_of(post))
            assert len(deliveries) == 1, [d.headers.get("date") for d in deliveries]
            assert deliveries[0].verified, deliveries[0].problem
