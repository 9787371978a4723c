"""Fixtures for the account tests: apps with their own settings, a real SMTP server, Redis."""

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import redis
from aiosmtpd.controller import Controller
from fastapi import FastAPI

from bench.live import free_port
from fastblog.main import create_app
from tests.asgi import started
from tests.conftest import IN_CI, make_settings, reset_database

AppFactory = Callable[..., Awaitable[FastAPI]]


@pytest.fixture
async def make_app(database_url: str, tmp_path: Path) -> AsyncIterator[AppFactory]:
    """Start apps on the test database with settings overridden; all are stopped at the end.

    The database is emptied when the first one starts, as the `client` fixture does.
    """
    async with AsyncExitStack() as stack:
        apps: list[FastAPI] = []

        async def start(**overrides: Any) -> FastAPI:
            media_dir = overrides.pop("media_dir", tmp_path / "media")
            settings = make_settings(database_url, media_dir, **overrides)
            app = create_app(settings)
            await stack.enter_async_context(started(app))
            if not apps:
                await reset_database(app)
            apps.append(app)
            return app

        yield start


class Mailbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"


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


REDIS_URL = "redis://127.0.0.1:6379/13"


@pytest.fixture
def redis_url() -> str:
    """A Redis database for shared throttling; skipped without a server, except in CI."""
    try:
        with redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2) as connection:
            connection.ping()
    except redis.RedisError as exc:
        message = f"Redis unreachable at {REDIS_URL}: {exc!r}"
        if IN_CI:
            pytest.fail(message + " (CI requires it)", pytrace=False)
        pytest.skip(message)
    return REDIS_URL
