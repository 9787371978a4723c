"""A reset requested on host A, whose process is killed (SIGKILL) before the mail goes out:
the mail arrives once any host is up. Host A a real `fastblog serve` process, the next host the
app in the test process (tests.threaded_host), a real SMTP server."""

import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller

from bench.live import LiveServer, ssl_context
from tests.auth.conftest import Mailbox, closed_port
from tests.factories import PASSWORD
from tests.processes import fastblog_env
from tests.threaded_host import ThreadedHost

MAIL_DEADLINE_SECONDS = 30  # host B's start-up (a Python process on a shared core) included
EMAIL = "kim@example.com"


@pytest.fixture
def database_url(migrated_database_url: str) -> str:
    return migrated_database_url


@pytest.fixture
def hosts() -> Iterator[list[LiveServer]]:
    """The servers a test starts, each stopped at the end (a killed one included)."""
    servers: list[LiveServer] = []
    yield servers
    for server in servers:
        server.stop()


def start_host(
    hosts: list[LiveServer],
    env: dict[str, str],
    log_path: Path,
    kind: type[LiveServer] = LiveServer,
) -> LiveServer:
    server = kind(env, log_path=log_path, cwd=log_path.parent)
    hosts.append(server)
    server.start()
    server.wait_ready()
    return server


def wait_until_logged(server: LiveServer, text: str) -> None:
    deadline = time.monotonic() + 10
    while text not in server.log():
        assert time.monotonic() < deadline, f"never logged {text!r}:\n{server.log_tail()}"
        time.sleep(0.05)


def kill(server: LiveServer) -> None:
    """SIGKILL to the whole process group, as when a machine dies: no shutdown at all."""
    assert server.process is not None
    os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait(10)


def test_a_reset_mail_queued_by_a_killed_host_is_sent_by_the_next_one(
    database_url: str, hosts: list[LiveServer], tmp_path: Path
) -> None:
    with closed_port() as smtp_port:  # nothing listens there while host A is up
        env = fastblog_env(
            database_url,
            log_level="INFO",
            smtp_host="127.0.0.1",
            smtp_port=str(smtp_port),
            outbox_poll_seconds="0.2",
            outbox_retry_seconds="0.5",
            # How long a mail claimed by the dead host waits before host B may send it.
            outbox_lease_seconds="2",
        )
        host_a = start_host(hosts, env, tmp_path / "host-a.log")
        signed_up = httpx.post(
            f"{host_a.url}/api/users",
            json={"username": "kim", "email": EMAIL, "password": PASSWORD},
            timeout=30,
            verify=ssl_context(),
        )
        assert signed_up.status_code == 201, signed_up.text

        asked = httpx.post(
            f"{host_a.url}/api/users/forgot-password",
            json={"email": EMAIL},
            timeout=30,
            verify=ssl_context(),
        )
        assert asked.status_code == 202
        wait_until_logged(host_a, "not sent (attempt 1 of 8)")  # queued, and the send failed
        kill(host_a)

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        time.sleep(1)
        assert mailbox.messages == []  # no host is up: nobody sends it
        # The next host: the app in this process (tests.threaded_host says why), on the
        # same database and settings; the killed one was a `fastblog serve` process.
        host_b = start_host(hosts, env, tmp_path / "host-b.log", kind=ThreadedHost)
        deadline = time.monotonic() + MAIL_DEADLINE_SECONDS
        while not mailbox.messages:
            assert time.monotonic() < deadline, f"no mail from host B:\n{host_b.log_tail()}"
            time.sleep(0.1)
        time.sleep(1)  # a few polls more: it is not sent twice
        (message,) = mailbox.messages
    finally:
        controller.stop()

    assert message["To"] == EMAIL
    match = re.search(r"/reset-password\?token=(\S+)", message.get_content())
    assert match, message.get_content()
    reset = httpx.post(
        f"{host_b.url}/api/users/reset-password",
        json={"token": match.group(1), "new_password": "the password after the crash"},
        timeout=30,
        verify=ssl_context(),
    )
    assert reset.status_code == 200, reset.text
    assert "Traceback" not in host_b.log()
