"""Password reset by email, with a real SMTP server (aiosmtpd) reading what the app sends."""

import asyncio
import hashlib
import logging
import re
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from email.message import EmailMessage
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import PasswordResetToken, User
from fastblog.db import utcnow
from fastblog.outbox import OutboxMail
from tests.accounts import browser, browser_login, read_form, submit
from tests.asgi import resources_of
from tests.auth.conftest import MAIL_WAIT_SECONDS, AppFactory, Mailbox, outbox_emptied
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.anyio

NEW_PASSWORD = "the password after the reset"
ACCEPTED = {"detail": "If an account uses that email, a reset link is on its way."}
REFUSED = {"detail": "The reset link is invalid, used or expired"}


@pytest.fixture
async def mail_client(mail_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with browser(mail_app) as client:
        yield client


@pytest.fixture
async def user(mail_app: FastAPI) -> User:
    async with resources_of(mail_app).database.session() as session:
        return await make_user(session, username="kim", email="kim@example.com")


def reset_token(message: EmailMessage) -> str:
    body = message.get_content()
    match = re.search(r"(http://\S+/reset-password\?\S+)", body)
    assert match, body
    link = urlsplit(match.group(1))
    assert link.netloc == "testserver"
    (token,) = parse_qs(link.query)["token"]
    return token


async def can_log_in(client: httpx.AsyncClient, password: str) -> bool:
    response = await client.post(
        "/api/users/token", data={"username": "kim@example.com", "password": password}
    )
    return response.status_code == 200


async def reset(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(
        "/api/users/reset-password", json={"token": token, "new_password": NEW_PASSWORD}
    )


async def test_forgot_password_answers_the_same_and_mails_only_real_accounts(
    mail_app: FastAPI, mail_client: httpx.AsyncClient, mailbox: Mailbox, user: User
) -> None:
    known = await mail_client.post("/api/users/forgot-password", json={"email": user.email})
    unknown = await mail_client.post(
        "/api/users/forgot-password", json={"email": "nobody@example.com"}
    )

    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json() == ACCEPTED
    await outbox_emptied(mail_app)
    (message,) = mailbox.messages
    assert message["To"] == "kim@example.com"
    assert message["Subject"] == "Reset your fastblog password"
    assert "Hello kim," in message.get_content()


async def test_reset_through_the_api_with_the_mailed_token(
    mail_client: httpx.AsyncClient, mailbox: Mailbox, user: User
) -> None:
    await mail_client.post("/api/users/forgot-password", json={"email": "KIM@example.com"})
    token = reset_token((await mailbox.wait_for(1))[-1])

    response = await reset(mail_client, token)

    assert response.status_code == 200, response.text
    assert await can_log_in(mail_client, NEW_PASSWORD)
    assert not await can_log_in(mail_client, PASSWORD)


async def test_a_reset_token_works_only_once(
    mail_client: httpx.AsyncClient, mailbox: Mailbox, user: User
) -> None:
    await mail_client.post("/api/users/forgot-password", json={"email": user.email})
    token = reset_token((await mailbox.wait_for(1))[-1])
    assert (await reset(mail_client, token)).status_code == 200

    again = await mail_client.post(
        "/api/users/reset-password", json={"token": token, "new_password": "yet another one"}
    )

    assert again.status_code == 400
    assert again.json() == REFUSED
    assert await can_log_in(mail_client, NEW_PASSWORD)


async def test_a_new_link_replaces_the_earlier_one(
    mail_client: httpx.AsyncClient, mailbox: Mailbox, user: User
) -> None:
    for _ in range(2):
        await mail_client.post("/api/users/forgot-password", json={"email": user.email})
    first, second = (reset_token(message) for message in await mailbox.wait_for(2))

    assert (await reset(mail_client, first)).status_code == 400
    assert (await reset(mail_client, second)).status_code == 200


async def test_an_expired_token_is_refused(
    mail_app: FastAPI, mail_client: httpx.AsyncClient, mailbox: Mailbox, user: User
) -> None:
    await mail_client.post("/api/users/forgot-password", json={"email": user.email})
    token = reset_token((await mailbox.wait_for(1))[-1])
    async with resources_of(mail_app).database.session() as session:
        expiry = (await session.scalars(select(PasswordResetToken.expires_at))).one()
        assert timedelta(minutes=29) < expiry - utcnow() <= timedelta(minutes=30)
        await session.execute(
            update(PasswordResetToken).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()

    response = await reset(mail_client, token)

    assert response.status_code == 400
    assert response.json() == REFUSED
    assert await can_log_in(mail_client, PASSWORD)


@pytest.mark.parametrize("token", ["made-up", "x" * 200])
async def test_a_made_up_token_is_refused(
    mail_client: httpx.AsyncClient, user: User, token: str
) -> None:
    response = await reset(mail_client, token)

    assert response.status_code == 400
    assert response.json() == REFUSED


async def test_only_a_hash_of_the_token_is_stored(
    mail_app: FastAPI, mail_client: httpx.AsyncClient, mailbox: Mailbox, user: User
) -> None:
    await mail_client.post("/api/users/forgot-password", json={"email": user.email})
    token = reset_token((await mailbox.wait_for(1))[-1])

    async with resources_of(mail_app).database.session() as session:
        rows = (await session.execute(select(PasswordResetToken.__table__))).all()

    (row,) = rows
    assert all(token not in str(value) for value in row)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()


async def test_reset_in_the_browser(
    mail_client: httpx.AsyncClient, mailbox: Mailbox, user: User
) -> None:
    asked = await submit(mail_client, "/forgot-password", {"email": user.email})
    assert asked.status_code == 303
    assert asked.headers["location"] == "/login"
    assert ACCEPTED["detail"] in (await mail_client.get("/login")).text
    token = reset_token((await mailbox.wait_for(1))[-1])

    form = await mail_client.get("/reset-password", params={"token": token})
    assert read_form(form.text).values["token"] == token
    short = await submit(mail_client, "/reset-password", {"token": token, "new_password": "short"})
    assert short.status_code == 422
    assert "new_password" in read_form(short.text).errors
    done = await submit(
        mail_client, "/reset-password", {"token": token, "new_password": NEW_PASSWORD}
    )

    assert done.status_code == 303
    assert done.headers["location"] == "/login"
    assert "Your password is changed." in (await mail_client.get("/login")).text
    reused = await submit(
        mail_client, "/reset-password", {"token": token, "new_password": "another password"}
    )
    assert reused.status_code == 400
    assert "invalid, already used or expired" in reused.text
    await browser_login(mail_client, user, NEW_PASSWORD)


async def test_a_reset_logs_out_the_browsers_using_the_old_password(
    mail_app: FastAPI, mail_client: httpx.AsyncClient, mailbox: Mailbox, user: User
) -> None:
    async with browser(mail_app) as intruder:
        await browser_login(intruder, user)
        await mail_client.post("/api/users/forgot-password", json={"email": user.email})
        assert (
            await reset(mail_client, reset_token((await mailbox.wait_for(1))[-1]))
        ).status_code == 200

        response = await intruder.get("/account")

        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=/account"
        assert await can_log_in(mail_client, NEW_PASSWORD)
        assert not await can_log_in(mail_client, PASSWORD)


async def test_without_smtp_the_reset_email_goes_to_the_log(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await make_user(session, username="kim", email="kim@example.com")
    caplog.set_level(logging.WARNING, logger="fastblog.mail")

    response = await client.post("/api/users/forgot-password", json={"email": "kim@example.com"})
    unknown = await client.post("/api/users/forgot-password", json={"email": "nobody@example.com"})

    assert response.status_code == unknown.status_code == 202
    await outbox_emptied(app)
    (record,) = [r for r in caplog.records if r.name == "fastblog.mail"]
    assert "kim@example.com" in record.getMessage()
    assert "http://testserver/reset-password?token=" in record.getMessage()


async def test_an_unreachable_smtp_server_is_logged_and_the_mail_kept(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture, refusing_port: int
) -> None:
    app = await make_app(smtp_host="127.0.0.1", smtp_port=refusing_port)  # nothing listens there
    async with resources_of(app).database.session() as session:
        await make_user(session, email="kim@example.com")
    caplog.set_level(logging.INFO, logger="fastblog.outbox")

    async with browser(app) as client:
        response = await client.post(
            "/api/users/forgot-password", json={"email": "kim@example.com"}
        )
        record = await logged(caplog, "fastblog.outbox.sender", "not sent")

    assert response.status_code == 202
    assert record.levelno == logging.WARNING
    assert "(attempt 1 of 8), trying again in 10 s: via 127.0.0.1" in record.getMessage()
    assert "token" not in record.getMessage()  # the link stays out of the log
    async with resources_of(app).database.session() as session:
        (mail,) = (await session.scalars(select(OutboxMail))).all()
    assert (mail.recipient, mail.attempts, mail.failed_at) == ("kim@example.com", 1, None)


async def logged(caplog: pytest.LogCaptureFixture, logger: str, text: str) -> logging.LogRecord:
    """The first record of `logger` saying `text`, once it is there."""
    deadline = time.monotonic() + MAIL_WAIT_SECONDS
    while True:
        for record in caplog.records:
            if record.name == logger and text in record.getMessage():
                return record
        assert time.monotonic() < deadline, f"nothing logged saying {text!r}"
        await asyncio.sleep(0.02)
