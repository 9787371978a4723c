"""The notification digest mail, through the outbox to a real SMTP server (aiosmtpd): what it
says, at most one an hour, once whichever process sends it, nothing lost when it fails."""

import asyncio
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from sqlalchemy import update

from fastblog.accounts.models import User
from fastblog.db import utcnow
from fastblog.notifications import digest
from fastblog.notifications.digest import DigestSender
from fastblog.posts.models import Post
from tests.accounts import bearer, browser
from tests.asgi import resources_of
from tests.auth.conftest import AppFactory, Mailbox, outbox_emptied
from tests.factories import make_posts, make_user

pytestmark = pytest.mark.anyio

SITE = "https://blog.example"


async def mail_app(make_app: AppFactory, smtp: tuple[Controller, Mailbox], **more: Any) -> FastAPI:
    controller, _ = smtp
    return await make_app(
        smtp_host=controller.hostname,
        smtp_port=controller.port,
        public_base_url=SITE,
        allowed_hosts=["testserver"],
        **more,
    )


def sender(app: FastAPI) -> DigestSender:
    """A digest sender of the app's own (the app's loop waits an hour between passes)."""
    resources = resources_of(app)
    return DigestSender(resources.database, resources.outbox, resources.site, resources.settings)


async def people(app: FastAPI, *, wants_mail: bool = True) -> tuple[User, User, Post]:
    async with resources_of(app).database.session() as session:
        author = await make_user(session, username="ada", notify_by_mail=wants_mail)
        reader = await make_user(session, username="bob")
        (post,) = await make_posts(session, author, 1)
    return author, reader, post


async def act(app: FastAPI, method: str, url: str, user: User, **body: Any) -> httpx.Response:
    async with browser(app) as client:
        response = await client.request(method, url, json=body or None, headers=bearer(app, user))
    assert response.status_code in (200, 201), response.text
    return response


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content()).replace("\r\n", "\n")


async def test_a_digest_tells_of_comments_and_followers_with_links(
    make_app: AppFactory, smtp_server: tuple[Controller, Mailbox]
) -> None:
    app = await mail_app(make_app, smtp_server)
    author, reader, post = await people(app)
    written = (
        await act(app, "POST", f"/api/posts/{post.id}/comments", reader, body="Great read!")
    ).json()
    await act(app, "POST", f"/api/users/{author.id}/follow", reader)
    await act(app, "POST", f"/api/posts/{post.id}/like", reader)  # likes are not mailed

    assert await sender(app).send_due() == 1
    (message,) = await smtp_server[1].wait_for(1)

    assert message["To"] == author.email
    assert message["Subject"] == "fastblog: 1 new comment and 1 new follower"
    text = text_of(message)
    assert 'bob commented on "' + post.title + '":\n  Great read!' in text
    assert f"{SITE}/posts/{post.id}/{post.slug}#comment-{written['id']}" in text
    assert f"bob followed you\n  {SITE}/users/{reader.id}/posts" in text
    assert "like" not in text
    assert f"{SITE}/account#notifications" in text


async def test_at_most_one_digest_an_hour_and_the_next_tells_only_what_is_new(
    make_app: AppFactory, smtp_server: tuple[Controller, Mailbox]
) -> None:
    app = await mail_app(make_app, smtp_server)
    _, reader, post = await people(app)
    await act(app, "POST", f"/api/posts/{post.id}/comments", reader, body="First")
    digests = sender(app)
    assert await digests.send_due() == 1
    await act(app, "POST", f"/api/posts/{post.id}/comments", reader, body="Second")

    assert await digests.send_due() == 0  # the last one is not an hour old
    assert await digests.send_due(utcnow() + timedelta(minutes=59)) == 0
    assert await digests.send_due(utcnow() + timedelta(minutes=61)) == 1
    assert await digests.send_due(utcnow() + timedelta(minutes=62)) == 0  # nothing new

    first, second = await smtp_server[1].wait_for(2)
    await outbox_emptied(app)
    assert len(smtp_server[1].messages) == 2
    assert "First" in text_of(first)
    assert "Second" in text_of(second)
    assert "First" not in text_of(second)


async def test_no_mail_for_those_who_did_not_ask_for_what_was_read_or_for_likes(
    make_app: AppFactory, smtp_server: tuple[Controller, Mailbox]
) -> None:
    app = await mail_app(make_app, smtp_server)
    quiet, reader, _ = await people(app, wants_mail=False)
    async with resources_of(app).database.session() as session:
        reads = await make_user(session, username="reads", notify_by_mail=True)
        liked = await make_user(session, username="liked", notify_by_mail=True)
        (liked_post,) = await make_posts(session, liked, 1)
    await act(app, "POST", f"/api/users/{quiet.id}/follow", reader)
    await act(app, "POST", f"/api/users/{reads.id}/follow", reader)
    await act(app, "POST", "/api/notifications/read", reads)
    await act(app, "POST", f"/api/posts/{liked_post.id}/like", reader)

    assert await sender(app).send_due() == 0

    # Turned on now, the quiet author gets the follow that is still unread.
    async with resources_of(app).database.transaction() as session:
        await session.execute(update(User).where(User.id == quiet.id).values(notify_by_mail=True))
        await session.commit()
    assert await sender(app).send_due() == 1
    (message,) = await smtp_server[1].wait_for(1)
    assert message["To"] == quiet.email
    assert message["Subject"] == "fastblog: 1 new follower"


async def test_notifications_older_than_a_day_are_not_mailed(
    make_app: AppFactory, smtp_server: tuple[Controller, Mailbox]
) -> None:
    app = await mail_app(make_app, smtp_server)
    author, reader, _ = await people(app)
    await act(app, "POST", f"/api/users/{author.id}/follow", reader)

    assert await sender(app).send_due(utcnow() + timedelta(days=1, minutes=1)) == 0
    assert await sender(app).send_due() == 1


async def test_two_hosts_sending_at_once_mail_each_digest_once(
    make_app: AppFactory, smtp_server: tuple[Controller, Mailbox]
) -> None:
    """Two apps (their own connections) on one database, each passing over the same due
    digests at the same moment, several times."""
    hosts = [await mail_app(make_app, smtp_server) for _ in range(2)]
    async with resources_of(hosts[0]).database.session() as session:
        fan = await make_user(session, username="fan")
        authors = [
            await make_user(session, username=f"author{n}", notify_by_mail=True) for n in range(6)
        ]
    for author in authors:
        await act(hosts[0], "POST", f"/api/users/{author.id}/follow", fan)
    senders = [sender(app) for app in hosts for _ in range(2)]

    queued = await asyncio.gather(*(each.send_due() for each in senders))
    queued += await asyncio.gather(*(each.send_due() for each in senders))

    assert sum(queued) == len(authors)
    await smtp_server[1].wait_for(len(authors))
    for app in hosts:
        await outbox_emptied(app)
    recipients = sorted(str(message["To"]) for message in smtp_server[1].messages)
    assert recipients == sorted(author.email for author in authors)


async def test_a_digest_that_fails_midway_loses_nothing_and_is_sent_once_later(
    make_app: AppFactory, smtp_server: tuple[Controller, Mailbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = await mail_app(make_app, smtp_server)
    author, reader, _ = await people(app)
    await act(app, "POST", f"/api/users/{author.id}/follow", reader)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the process died here")

    with monkeypatch.context() as patched:
        patched.setattr(digest, "queue_mail", broken)
        with pytest.raises(RuntimeError):
            await sender(app).send_due()

    assert await sender(app).send_due() == 1  # the hour's key and the claim rolled back
    assert await sender(app).send_due() == 0
    await smtp_server[1].wait_for(1)
    await outbox_emptied(app)
    assert len(smtp_server[1].messages) == 1


async def test_the_apps_own_loop_sends_the_digest(
    make_app: AppFactory, smtp_server: tuple[Controller, Mailbox]
) -> None:
    app = await mail_app(make_app, smtp_server, notification_digest_poll_seconds=0.05)
    author, reader, _ = await people(app)

    await act(app, "POST", f"/api/users/{author.id}/follow", reader)

    (message,) = await smtp_server[1].wait_for(1)
    assert message["To"] == author.email
