"""A post published on host A, whose process is killed (SIGKILL) while the follower's inbox
is down: the Create arrives once the inbox is back and any host is up. Real `fastblog serve`
processes and a real HTTP server for the inbox."""

import asyncio
import http.server
import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from sqlalchemy import pool
from sqlalchemy.ext.asyncio import create_async_engine

from bench.live import LiveServer
from fastblog.accounts.tokens import create_access_token
from fastblog.db import utcnow
from fastblog.federation.models import RemoteActor, RemoteFollower
from fastblog.models import User
from tests.auth.conftest import closed_port
from tests.factories import TEST_SECRET_KEY, password_hash
from tests.processes import fastblog_env
from tests.test_mail_survives_a_crash import kill, start_host, wait_until_logged

DEADLINE_SECONDS = 30  # host B's start-up (a Python process on a shared core) included


@pytest.fixture
def database_url(migrated_database_url: str) -> str:
    return migrated_database_url


@pytest.fixture
def hosts() -> Iterator[list[LiveServer]]:
    servers: list[LiveServer] = []
    yield servers
    for server in servers:
        server.stop()


async def follower_of_a_new_author(database_url: str, inbox: str) -> int:
    engine = create_async_engine(database_url, poolclass=pool.NullPool)
    try:
        async with engine.begin() as connection:
            user_id = (
                await connection.execute(
                    User.__table__.insert()
                    .values(
                        username="writer",
                        email="writer@example.com",
                        password_hash=password_hash(),
                        role="author",
                    )
                    .returning(User.id)
                )
            ).scalar_one()
            actor_id = (
                await connection.execute(
                    RemoteActor.__table__.insert()
                    .values(
                        uri="http://127.0.0.1/users/alice",
                        inbox=inbox,
                        shared_inbox=inbox,
                        key_id="http://127.0.0.1/users/alice#main-key",
                        public_key_pem="-",
                        username="alice",
                        host="127.0.0.1",
                        name="",
                        fetched_at=utcnow(),
                    )
                    .returning(RemoteActor.id)
                )
            ).scalar_one()
            await connection.execute(
                RemoteFollower.__table__.insert().values(
                    user_id=user_id,
                    actor_id=actor_id,
                    follow_id="f",
                    created_at=utcnow(),
                )
            )
    finally:
        await engine.dispose()
    return int(user_id)


class Inbox(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", "0"))
        Inbox.received.append(json.loads(self.rfile.read(length)))
        self.send_response(202)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_a_delivery_queued_by_a_killed_host_is_sent_once_by_the_next_one(
    database_url: str, hosts: list[LiveServer], tmp_path: Path
) -> None:
    Inbox.received = []
    with closed_port() as port:  # nothing listens there while host A is up
        inbox = f"http://127.0.0.1:{port}/inbox"
        user_id = asyncio.run(follower_of_a_new_author(database_url, inbox))
        env = fastblog_env(
            database_url,
            log_level="INFO",
            public_base_url="http://blog.example",
            federation_allow_private_addresses="true",
            federation_poll_seconds="0.2",
            outbox_retry_seconds="0.5",
            outbox_lease_seconds="2",
        )
        host_a = start_host(hosts, env, tmp_path / "host-a.log")
        token = create_access_token(user_id, secret=TEST_SECRET_KEY, lifetime=timedelta(hours=1))
        created = httpx.post(
            f"{host_a.url}/api/posts",
            json={"title": "Survives", "content": "x"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert created.status_code == 201, created.text
        wait_until_logged(host_a, "failed (attempt 1)")  # queued, and the inbox was down
        kill(host_a)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Inbox)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        time.sleep(1)
        assert Inbox.received == []  # no host is up: nobody sends it
        host_b = start_host(hosts, env, tmp_path / "host-b.log")
        deadline = time.monotonic() + DEADLINE_SECONDS
        while not Inbox.received:
            assert time.monotonic() < deadline, f"nothing from host B:\n{host_b.log_tail()}"
            time.sleep(0.1)
        time.sleep(1)  # a few polls more: it is not sent twice
        (activity,) = Inbox.received
    finally:
        server.shutdown()
        server.server_close()
    assert activity["type"] == "Create"
    assert activity["object"]["name"] == "Survives"
    assert "Traceback" not in host_b.log()
