"""Fixtures for the account tests: apps with their own settings, a real SMTP server."""

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from sqlalchemy import func, select

from bench.live import free_port
from fastblog.outbox import OutboxMail
from tests.apps import create_app
from tests.asgi import resources_of, started
from tests.conftest import make_settings, reset_database_at

AppFactory = Callable[..., Awaitable[FastAPI]]
# How long a test waits for the outbox to send what it holds (it takes milliseconds).
MAIL_WAIT_SECONDS = 10


@contextlib.contextmanager
def closed_port() -> Iterator[int]:
    """A loopback port where nothing listens, and nothing else may: a socket bound without
    listen() refuses every connection and keeps the port. A port merely probed free (free_port)
    can be handed to a test in another xdist worker, whose SMTP server then takes this test's
    retried mails. Leave the block right before starting a server of this test's own there."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        yield holder.getsockname()[1]


@pytest.fixture
def refusing_port() -> Iterator[int]:
    """closed_port() for the whole test."""
    with closed_port() as port:
        yield port


@pytest.fixture
async def make_app(own_database_url: str, tmp_path: Path) -> AsyncIterator[AppFactory]:
    """Start apps on a database of the test's own with settings overridden; all are stopped
    at the end. The database is emptied before the first one starts, as for `client`."""
    async with AsyncExitStack() as stack:
        apps: list[FastAPI] = []

        async def start(**overrides: Any) -> FastAPI:
            media_dir = overrides.pop("media_dir", tmp_path / "media")
            settings = make_settings(own_database_url, media_dir, **overrides)
            app = create_app(settings)
            if not apps:
                await reset_database_at(own_database_url)
            await stack.enter_async_context(started(app))
            apps.append(app)
            return app

        yield start


class Mailbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def wait_for(self, count: int) -> list[EmailMessage]:
        """The messages, once at least `count` have arrived (the outbox sends them in the
        background); fails after MAIL_WAIT_SECONDS."""
        deadline = time.monotonic() + MAIL_WAIT_SECONDS
        while len(self.messages) < count:
            assert time.monotonic() < deadline, f"{len(self.messages)} of {count} mails arrived"
            await asyncio.sleep(0.02)
        return self.messages

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"


PENDING_MAILS = (
    select(func.count().label("pending"))
    .select_from(OutboxMail)
    .where(OutboxMail.failed_at.is_(None))
)


async def outbox_emptied(app: FastAPI) -> None:
    """Wait until the app's mail outbox has nothing left to send: every mail queued so far
    has been handed to the SMTP server (or the log), or given up on."""
    deadline = time.monotonic() + MAIL_WAIT_SECONDS
    database = resources_of(app).database
    while await database.fetch_one(PENDING_MAILS) != {"pending": 0}:
        assert time.monotonic() < deadline, "mails still waiting in the outbox"
        await asyncio.sleep(0.02)


@pytest.fixture
def smtp_server() -> Iterator[tuple[Controller, Mailbox]]:
    """A real SMTP server on a free local port, in its own thread."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, mailbox
    finally:
        controller.stop()


@pytest.fixture
async def mail_app(make_app: AppFactory, smtp_server: tuple[Controller, Mailbox]) -> FastAPI:
    """An app on the test database that sends its mail to `smtp_server`."""
    controller, _ = smtp_server
    return await make_app(smtp_host=controller.hostname, smtp_port=controller.port)


@pytest.fixture
def mailbox(smtp_server: tuple[Controller, Mailbox]) -> Mailbox:
    """What `mail_app` has sent."""
    return smtp_server[1]
