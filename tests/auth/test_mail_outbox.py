"""The mail outbox (fastblog.outbox): what is queued is sent, once, whichever sender gets it,
and survives an SMTP server that is down. A real SMTP server (aiosmtpd) reads what arrives."""

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from sqlalchemy import func, select, text

from bench.live import free_port
from fastblog.accounts.auth_service import email_reset_link
from fastblog.accounts.models import PasswordResetToken
from fastblog.db import utcnow
from fastblog.outbox import OutboxMail, OutboxSender, queue_mail
from fastblog.outbox.queries import QUEUE
from fastblog.outbox.sender import retry_delay
from tests.accounts import browser
from tests.asgi import resources_of
from tests.auth.conftest import (
    MAIL_WAIT_SECONDS,
    AppFactory,
    Mailbox,
    closed_port,
    outbox_emptied,
)
from tests.connections import on_each_connection
from tests.factories import make_user

pytestmark = pytest.mark.anyio

FAST_RETRIES = {"outbox_retry_seconds": 0.1, "outbox_poll_seconds": 0.1}


async def outbox_rows(app: FastAPI) -> list[OutboxMail]:
    async with resources_of(app).database.session() as session:
        return list((await session.scalars(select(OutboxMail).order_by(OutboxMail.id))).all())


async def token_count(app: FastAPI) -> int:
    async with resources_of(app).database.session() as session:
        count = await session.scalar(select(func.count()).select_from(PasswordResetToken))
    return count or 0


async def forgot(app: FastAPI, email: str) -> None:
    async with browser(app) as client:
        response = await client.post("/api/users/forgot-password", json={"email": email})
    assert response.status_code == 202


async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Wait until the async `check()` is true (the sender works in the background)."""
    deadline = time.monotonic() + MAIL_WAIT_SECONDS
    while not await check():
        assert time.monotonic() < deadline, f"still not: {what}"
        await asyncio.sleep(0.02)


@contextlib.contextmanager
def smtp_on(port: int, handler: object) -> Iterator[Controller]:
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


class RefusingServer:
    """An SMTP server that refuses every message, as a full or misconfigured relay does."""

    def __init__(self) -> None:
        self.refused = 0

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.refused += 1
        return "554 Transaction failed"


# -- the reset token and its mail ----------------------------------------------------------------


REFUSE_MAIL_SQLITE = (
    "CREATE TEMP TRIGGER refuse_mail BEFORE INSERT ON main.mail_outbox"
    " BEGIN SELECT RAISE(ABORT, 'mail refused'); END"
)
REFUSE_MAIL_POSTGRES = [
    "CREATE FUNCTION refuse_mail() RETURNS trigger LANGUAGE plpgsql"
    " AS $$ BEGIN RAISE EXCEPTION 'mail refused'; END $$",
    "CREATE TRIGGER refuse_mail BEFORE INSERT ON mail_outbox"
    " FOR EACH ROW EXECUTE FUNCTION refuse_mail()",
]


@pytest.fixture
async def mail_refused_by_the_database(make_app: AppFactory) -> AsyncIterator[FastAPI]:
    """An app whose database refuses every new outbox row (a trigger): the mail's INSERT fails
    after the token's has been written in the same transaction.

    On SQLite the trigger is a TEMP one, on each of this app's engine connections: it changes
    no schema but theirs. A trigger made and dropped in the shared file changes the schema
    under the connections other apps hold open (the session's `app`), and SQLite (3.40.1) then
    fails the first DELETE FROM post_tags or posts such a connection runs: "no such table".
    The connections keep it until this app, the test's own, stops.
    """
    app = await make_app()
    engine = resources_of(app).database.engine
    if engine.dialect.name == "sqlite":

        def refuse_mail(dbapi_connection: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute(REFUSE_MAIL_SQLITE)
            cursor.close()

        with on_each_connection(engine, refuse_mail):
            yield app
        return
    async with engine.begin() as connection:
        for statement in REFUSE_MAIL_POSTGRES:
            await connection.execute(text(statement))
    try:
        yield app
    finally:
        async with engine.begin() as connection:
            await connection.execute(text("DROP TRIGGER refuse_mail ON mail_outbox"))
            await connection.execute(text("DROP FUNCTION refuse_mail()"))


async def test_no_reset_token_is_kept_without_its_mail(
    mail_refused_by_the_database: FastAPI,
) -> None:
    app = mail_refused_by_the_database
    resources = resources_of(app)
    async with resources.database.session() as session:
        await make_user(session, email="kim@example.com")

    with pytest.raises(Exception, match="mail refused"):
        await email_reset_link(
            resources.database,
            resources.outbox,
            resources.settings,
            email="kim@example.com",
            base_url="http://testserver",
        )

    assert await token_count(app) == 0  # the token's row went with the mail's
    assert await outbox_rows(app) == []


async def test_the_reset_token_and_its_mail_are_written_together(make_app: AppFactory) -> None:
    # No SMTP server configured and a sender that does not poll: the mail stays queued.
    app = await make_app(outbox_poll_seconds=3600)
    resources = resources_of(app)
    await resources.outbox.stop()
    async with resources.database.session() as session:
        await make_user(session, username="kim", email="kim@example.com")

    await forgot(app, "kim@example.com")

    assert await token_count(app) == 1
    (mail,) = await outbox_rows(app)
    assert mail.recipient == "kim@example.com"
    assert "http://testserver/reset-password?token=" in mail.body
    async with resources.database.session() as session:
        token = (await session.scalars(select(PasswordResetToken))).one()
    assert mail.expires_at == token.expires_at  # not worth sending once the link is dead


# -- sending -------------------------------------------------------------------------------------


async def test_a_queued_mail_is_sent_at_once_not_at_the_next_poll(
    make_app: AppFactory, smtp_server: tuple[Controller, Mailbox]
) -> None:
    controller, mailbox = smtp_server
    app = await make_app(
        smtp_host=controller.hostname, smtp_port=controller.port, outbox_poll_seconds=3600
    )
    async with resources_of(app).database.session() as session:
        await make_user(session, email="kim@example.com")
    await asyncio.sleep(0.1)  # the sender's first pass is over: it waits for an hour now

    started = time.monotonic()
    await forgot(app, "kim@example.com")
    (message,) = await mailbox.wait_for(1)

    # The next poll is an hour away: any answer within the wait proves the wake-up, and the
    # bound leaves a loaded machine its seconds.
    assert time.monotonic() - started < MAIL_WAIT_SECONDS
    assert message["To"] == "kim@example.com"
    await outbox_emptied(app)
    assert await outbox_rows(app) == []  # sent mails are deleted, link and all


async def test_mails_go_out_once_the_smtp_server_is_back(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    with closed_port() as port:
        app = await make_app(smtp_host="127.0.0.1", smtp_port=port, **FAST_RETRIES)
        async with resources_of(app).database.session() as session:
            await make_user(session, email="kim@example.com")
        caplog.set_level(logging.WARNING, logger="fastblog.outbox")

        await forgot(app, "kim@example.com")

        async def failed_twice() -> bool:
            return any("(attempt 2 of 8)" in r.getMessage() for r in caplog.records)

        await until(failed_twice, "two failed attempts")
    mailbox = Mailbox()
    with smtp_on(port, mailbox):
        (message,) = await mailbox.wait_for(1)
        await outbox_emptied(app)
        await asyncio.sleep(0.3)  # a few more polls: nothing is sent twice
        assert len(mailbox.messages) == 1
    assert message["To"] == "kim@example.com"
    assert "/reset-password?token=" in message.get_content()


async def test_the_sender_gives_up_after_the_last_attempt_and_erases_the_link(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    refusing = RefusingServer()
    with smtp_on(free_port(), refusing) as controller:
        app = await make_app(
            smtp_host=controller.hostname,
            smtp_port=controller.port,
            outbox_max_attempts=3,
            **FAST_RETRIES,
        )
        async with resources_of(app).database.session() as session:
            await make_user(session, email="kim@example.com")

        await forgot(app, "kim@example.com")

        async def given_up() -> bool:
            rows = await outbox_rows(app)
            return bool(rows) and rows[0].failed_at is not None

        await until(given_up, "the mail given up on")
        await asyncio.sleep(0.3)
        assert refusing.refused == 3  # and no fourth try

    (mail,) = await outbox_rows(app)
    assert (mail.attempts, mail.body) == (3, "")
    assert mail.last_error is not None
    assert "3 attempts failed" in mail.last_error
    assert "554" in mail.last_error
    (record,) = [r for r in caplog.records if "given up" in r.getMessage()]
    assert record.levelno == logging.ERROR
    assert "token" not in record.getMessage()


async def test_a_mail_whose_link_expired_is_not_sent(
    make_app: AppFactory, smtp_server: tuple[Controller, Mailbox]
) -> None:
    controller, mailbox = smtp_server
    app = await make_app(smtp_host=controller.hostname, smtp_port=controller.port)
    resources = resources_of(app)
    async with resources.database.transaction() as session:
        queue_mail(session, to="a@example.com", subject="late", body="x", expires_at=utcnow())
        queue_mail(session, to="b@example.com", subject="in time", body="y")
        await session.commit()
    resources.outbox.wake()

    (message,) = await mailbox.wait_for(1)
    await outbox_emptied(app)

    assert message["Subject"] == "in time"
    (late,) = await outbox_rows(app)
    assert late.failed_at is not None
    assert late.last_error == "expired before it could be sent"


class RefusingOneRecipient(Mailbox):
    """Keeps every message but refuses one address, and counts the connections it saw."""

    def __init__(self, refused: str) -> None:
        super().__init__()
        self.refused = refused
        self.connections: list[object] = []

    async def handle_RCPT(
        self, server: object, session: object, envelope: Any, address: str, options: object
    ) -> str:
        if session not in self.connections:
            self.connections.append(session)
        if address == self.refused:
            return "550 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"


async def test_a_batch_shares_connections_and_a_refused_mail_takes_no_other_with_it(
    make_app: AppFactory,
) -> None:
    server = RefusingOneRecipient("user4@example.com")
    with smtp_on(free_port(), server) as controller:
        app = await make_app(
            smtp_host=controller.hostname, smtp_port=controller.port, outbox_poll_seconds=3600
        )
        resources = resources_of(app)
        await resources.outbox.stop()  # this test drives the sender itself
        async with resources.database.transaction() as session:
            for n in range(10):
                queue_mail(session, to=f"user{n}@example.com", subject=f"mail {n}", body="hi")
            await session.commit()
        sender = OutboxSender(resources.database, resources.mailer, resources.settings)

        assert await sender.send_due() == 10

    subjects = sorted(message["Subject"] for message in server.messages)
    assert subjects == sorted(f"mail {n}" for n in range(10) if n != 4)  # each once
    assert len(server.connections) < 10  # mails shared connections
    (refused,) = await outbox_rows(app)  # the others are recorded as sent
    assert refused.recipient == "user4@example.com"
    assert (refused.failed_at, refused.claimed_until, refused.attempts) == (None, None, 1)
    assert refused.last_error is not None
    assert "550" in refused.last_error  # and it is tried again later


# -- several senders, and senders that die ---------------------------------------------------------


async def test_two_senders_on_one_database_never_send_a_mail_twice(
    make_app: AppFactory, smtp_server: tuple[Controller, Mailbox]
) -> None:
    """Two apps (two hosts: their own connections) on one database, each with senders that
    claim one mail at a time, all racing for the same 40 mails."""
    controller, mailbox = smtp_server
    smtp = {"smtp_host": controller.hostname, "smtp_port": controller.port}
    hosts = [await make_app(outbox_poll_seconds=3600, **smtp) for _ in range(2)]
    async with resources_of(hosts[0]).database.transaction() as session:
        for n in range(40):
            queue_mail(session, to=f"user{n}@example.com", subject=f"mail {n}", body="hello")
        await session.commit()
    senders = [
        OutboxSender(resources.database, resources.mailer, resources.settings, batch=1)
        for resources in (resources_of(app) for app in hosts)
        for _ in range(2)
    ]
    claimed = [0] * len(senders)

    async def drain(index: int) -> None:
        while sent := await senders[index].send_due():
            claimed[index] += sent

    await asyncio.gather(*(drain(index) for index in range(len(senders))))

    subjects = sorted(message["Subject"] for message in await mailbox.wait_for(40))
    assert subjects == sorted(f"mail {n}" for n in range(40))  # each once, none missing
    assert sum(claimed) == 40
    assert sum(1 for count in claimed if count) >= 2, claimed  # they really raced
    assert await outbox_rows(hosts[1]) == []  # every send_due has returned: all recorded


async def test_a_mail_claimed_by_a_sender_that_died_is_sent_once_its_lease_lapses(
    make_app: AppFactory, smtp_server: tuple[Controller, Mailbox]
) -> None:
    controller, mailbox = smtp_server
    app = await make_app(
        smtp_host=controller.hostname,
        smtp_port=controller.port,
        outbox_poll_seconds=3600,
        outbox_lease_seconds=1,
    )
    resources = resources_of(app)
    await resources.outbox.stop()  # this test drives the senders itself
    async with resources.database.transaction() as session:
        queue_mail(session, to="kim@example.com", subject="reset", body="hello")
        await session.commit()
    # What a process killed mid-send leaves behind: its claim, and no end to the attempt.
    now = utcnow()
    lease_end = now + timedelta(seconds=1)
    await resources.database.write(QUEUE.claim, {"now": now, "lease_end": lease_end, "batch": 1})
    survivor = OutboxSender(resources.database, resources.mailer, resources.settings)

    assert await survivor.send_due() == 0  # the lease holds
    await asyncio.sleep(max(0.0, (lease_end - utcnow()).total_seconds()) + 0.05)
    assert await survivor.send_due() == 1

    (message,) = await mailbox.wait_for(1)
    assert message["Subject"] == "reset"
    assert await outbox_rows(app) == []  # send_due returns once the mail is recorded as sent


class SlowServer(Mailbox):
    """Takes its time to accept a message, so a shutdown arrives in the middle of a send."""

    def __init__(self) -> None:
        super().__init__()
        self.receiving = asyncio.Event()
        self.loop = asyncio.get_running_loop()

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        self.loop.call_soon_threadsafe(self.receiving.set)
        await asyncio.sleep(0.5)
        return await super().handle_DATA(server, session, envelope)


async def test_a_send_in_flight_at_shutdown_finishes(make_app: AppFactory) -> None:
    slow = SlowServer()
    with smtp_on(free_port(), slow) as controller:
        app = await make_app(smtp_host=controller.hostname, smtp_port=controller.port)
        resources = resources_of(app)
        async with resources.database.transaction() as session:
            queue_mail(session, to="kim@example.com", subject="reset", body="hello")
            await session.commit()
        resources.outbox.wake()
        await asyncio.wait_for(slow.receiving.wait(), MAIL_WAIT_SECONDS)

        await resources.outbox.stop()  # what the lifespan does at shutdown

        assert len(slow.messages) == 1
        assert await outbox_rows(app) == []  # recorded as sent: not sent again by anyone


async def test_the_reset_link_of_a_mail_sent_by_the_outbox_works(
    make_app: AppFactory, smtp_server: tuple[Controller, Mailbox]
) -> None:
    controller, mailbox = smtp_server
    app = await make_app(smtp_host=controller.hostname, smtp_port=controller.port)
    async with resources_of(app).database.session() as session:
        await make_user(session, email="kim@example.com")
    await forgot(app, "kim@example.com")
    (message,) = await mailbox.wait_for(1)
    match = re.search(r"token=(\S+)", message.get_content())
    assert match

    async with browser(app) as client:
        response = await client.post(
            "/api/users/reset-password",
            json={"token": match.group(1), "new_password": "a brand new password"},
        )

    assert response.status_code == 200, response.text


async def test_retries_wait_twice_as_long_each_time_up_to_an_hour() -> None:
    waits = [retry_delay(attempts, first_seconds=10) for attempts in (1, 2, 3, 9, 100)]

    assert [wait.total_seconds() for wait in waits] == [10, 20, 40, 2560, 3600]
