"""Email subscriptions end to end (fastblog.newsletter), on SQLite and PostgreSQL, with a real
SMTP server (aiosmtpd) reading what arrives: double opt-in, a post mailed once to each
subscriber when it becomes visible (now, or when scheduled and due), leaving, the admin's
list, export and removal; two hosts sending at once, and a sender that dies mid-send."""

import asyncio
import re
import secrets
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from sqlalchemy import func, select

from fastblog.accounts.models import PasswordResetToken, User
from fastblog.db import utcnow
from fastblog.newsletter.models import NewsletterDelivery, NewsletterIssue, Subscription
from fastblog.newsletter.sending import IssueSender
from fastblog.outbox import OutboxMail
from fastblog.outbox.queries import QUEUE
from fastblog.posts.models import Post
from fastblog.posts.visibility import PostVisibility
from tests.accounts import bearer, browser, browser_login
from tests.asgi import resources_of
from tests.auth.conftest import AppFactory, Mailbox, outbox_emptied
from tests.auth.test_mail_outbox import until
from tests.factories import StatementCounter, after_announcing, announced, due_now, make_user
from tests.html import read_page

pytestmark = pytest.mark.anyio

SITE = "https://blog.example"


async def start(
    make_app: AppFactory, smtp: tuple[Controller, Mailbox], **overrides: Any
) -> FastAPI:
    controller, _ = smtp
    values: dict[str, Any] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": controller.port,
        "outbox_poll_seconds": 0.1,
        "post_schedule_poll_seconds": 3600,  # scheduled posts: the test runs the pass itself
        "public_base_url": SITE,
        "newsletter_mails_per_minute": 600_000,
        **overrides,
    }
    app = await make_app(**values)
    # The settings of the emptied database (an earlier test may have changed the row).
    resources_of(app).site.forget()
    return app


def visibility_of(app: FastAPI) -> PostVisibility:
    state: dict[str, Any] = app.state._test_lifespan_state
    watcher: PostVisibility = state["post_visibility"]
    return watcher


async def add_subscribers(
    app: FastAPI, emails: list[str], *, author_id: int | None = None, confirmed: bool = True
) -> list[Subscription]:
    async with resources_of(app).database.transaction() as session:
        rows = [
            Subscription(
                email=email,
                author_id=author_id,
                token=secrets.token_urlsafe(32),
                confirmed_at=utcnow() if confirmed else None,
            )
            for email in emails
        ]
        session.add_all(rows)
        await session.commit()
    return rows


async def new_author(app: FastAPI, **overrides: Any) -> User:
    async with resources_of(app).database.transaction() as session:
        user = await make_user(session, **overrides)
        await session.commit()
    return user


async def publish(app: FastAPI, author: User, **fields: Any) -> dict[str, Any]:
    async with browser(app) as client:
        response = await client.post(
            "/api/posts",
            json={"title": "A title", "content": "Some words.", **fields},
            headers=bearer(app, author),
        )
    assert response.status_code == 201, response.text
    post: dict[str, Any] = response.json()
    return post


async def count(app: FastAPI, statement: Any) -> int:
    async with resources_of(app).database.session() as session:
        return int(await session.scalar(statement) or 0)


async def issue_done(app: FastAPI, post_id: int) -> bool:
    async with resources_of(app).database.session() as session:
        issue = await session.get(NewsletterIssue, post_id)
    return issue is not None and issue.done_at is not None


def recipients(messages: list[EmailMessage], subject: str) -> list[str]:
    return sorted(str(m["To"]) for m in messages if m["Subject"] == subject)


def link_in(message: EmailMessage, pattern: str) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    found = re.search(pattern, part.get_content())
    assert found, part.get_content()
    return found.group(0)


async def test_subscribe_confirm_receive_and_leave(
    make_app: AppFactory, smtp_server: tuple[Controller, Mailbox]
) -> None:
    app = await start(make_app, smtp_server)
    _, mailbox = smtp_server
    author = await new_author(app)
    async with browser(app) as client:
        for bad in ({"email": "not an address"}, {"email": "a@b.example", "author_id": 0}, {}):
            response = await client.post("/api/subscriptions", json=bad)
            assert response.status_code == 422, bad
        # A new address, the same again, one for the author: the same answer each time.
        answers = [
            await client.post("/api/subscriptions", json=body)
            for body in (
                {"email": "Reader@Example.com"},
                {"email": "reader@example.com"},
                {"email": "fan@example.com", "author_id": author.id},
            )
        ]
    assert {(r.status_code, r.json()["detail"]) for r in answers} == {
        (202, "If the address can receive mail, a confirmation link is on its way.")
    }
    confirmations = await mailbox.wait_for(3)
    assert sorted(str(m["To"]) for m in confirmations) == [
        "fan@example.com",
        "reader@example.com",
        "reader@example.com",
    ]
    links = {str(m["To"]): link_in(m, rf"{SITE}/subscriptions/confirm/\S+") for m in confirmations}
    async with browser(app) as client:
        for address, link in links.items():
            path = httpx.URL(link).path
            page = await client.get(path)  # what a link scanner does: nothing changes
            assert page.status_code == 200
            assert "Confirm my subscription" in read_page(page).text
            if address == "reader@example.com":
                confirmed = await client.post(path)
                assert confirmed.status_code == 303
    # Only the reader confirmed: the fan gets nothing but the confirmation.
    post = await publish(app, author, title="First of many")
    await until(lambda: issue_done(app, post["id"]), "the issue is queued")
    await outbox_emptied(app)
    [mail] = [m for m in mailbox.messages if m["Subject"] == "First of many"]
    assert mail["To"] == "reader@example.com"
    token = str(mail["List-Unsubscribe"]).removeprefix(f"<{SITE}/unsubscribe/").rstrip(">")
    assert mail["List-Unsubscribe"] == f"<{SITE}/unsubscribe/{token}>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "newsletter.blog.example" in str(mail["List-Id"])
    assert mail.get_content_type() == "multipart/alternative"
    html_part = mail.get_body(preferencelist=("html",))
    text_part = mail.get_body(preferencelist=("plain",))
    assert html_part is not None
    assert text_part is not None
    html = html_part.get_content()
    page = read_page(httpx.Response(200, html=html))
    assert page.link("First of many").href == f"{SITE}/posts/{post['id']}"
    assert "<script" not in html
    assert "<style" not in html
    assert 'style="' in html
    assert f"{SITE}/unsubscribe/{token}" in text_part.get_content()
    # An edit sends nothing.
    async with browser(app) as client:
        edited = await client.patch(
            f"/api/posts/{post['id']}", json={"title": "Renamed"}, headers=bearer(app, author)
        )
        assert edited.status_code == 200
        # The manage page changes nothing on GET; the one-click POST leaves, 200.
        manage = await client.get(f"/unsubscribe/{token}")
        assert "reader@example.com" in read_page(manage).text
        assert await count(app, select(func.count()).select_from(Subscription)) == 2
        left = await client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
        assert left.status_code == 200
        again = await client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
        assert again.status_code == 200
    second = await publish(app, author, title="Second")
    await until(lambda: issue_done(app, second["id"]), "the second issue is queued")
    await outbox_emptied(app)
    assert recipients(mailbox.messages, "Second") == []
    assert recipients(mailbox.messages, "Renamed") == []
    assert len(mailbox.messages) == 4


async def test_one_mail_per_address_site_and_author_subscribers_only(
    make_app: AppFactory, smtp_server: tuple[Controller, Mailbox]
) -> None:
    app = await start(make_app, smtp_server)
    _, mailbox = smtp_server
    author, other = await new_author(app), await new_author(app)
    await add_subscribers(app, ["both@example.com", "site@example.com"])
    await add_subscribers(app, ["both@example.com", "fan@example.com"], author_id=author.id)
    await add_subscribers(app, ["other@example.com"], author_id=other.id)
    await add_subscribers(app, ["late@example.com"], confirmed=False)
    quiet = await publish(app, author, title="Not mailed", send_newsletter=False)
    post = await publish(app, author, title="Mailed")
    await until(lambda: issue_done(app, post["id"]), "the issue is queued")
    await outbox_emptied(app)
    assert recipients(mailbox.messages, "Mailed") == [
        "both@example.com",
        "fan@example.com",
        "site@example.com",
    ]
    assert recipients(mailbox.messages, "Not mailed") == []
    assert await count(app, select(func.count()).select_from(NewsletterIssue)) == 1
    assert quiet["id"] != post["id"]


async def test_the_site_setting_is_the_default(
    make_app: AppFactory, smtp_server: tuple[Controller, Mailbox]
) -> None:
    app = await start(make_app, smtp_server)
    owner = await new_author(app, role="owner")
    async with browser(app) as client:
        response = await client.patch(
            "/api/site", json={"newsletter_default": False}, headers=bearer(app, owner)
        )
        assert response.status_code == 200
        assert response.json()["newsletter_default"] is False
    post = await publish(app, owner)
    async with resources_of(app).database.session() as session:
        stored = await session.get(Post, post["id"])
    assert stored is not None
    assert stored.send_newsletter is False


async def test_a_post_that_mails_nobody_wakes_no_sender(
    make_app: AppFactory, smtp_server: tuple[Controller, Mailbox]
) -> None:
    # The senders poll hourly: whatever they do next comes from a wake-up.
    app = await start(make_app, smtp_server, outbox_poll_seconds=3600)
    author = await new_author(app)
    await add_subscribers(app, ["reader@example.com"])
    log = StatementCounter(resources_of(app).database, background=True)
    with log() as statements:
        post = await publish(app, author, title="Quiet", send_newsletter=False)
        await until(lambda: announced(resources_of(app).database, post["id"]), "announced")
        await asyncio.sleep(0.3)  # a sender woken by the announcement would have looked by now
    # What the database's query log shows: no pass of the issue sender (it reads open issues).
    assert not [sql for sql in after_announcing(statements) if "newsletter_issues" in sql]


async def test_a_newsletter_no_one_would_get_is_done_at_once_and_wakes_no_sender(
    make_app: AppFactory, smtp_server: tuple[Controller, Mailbox]
) -> None:
    """A blog whose only subscribers follow another author, or never confirmed: the post's
    issue is made done in the transaction that announces it, and no sender pass follows."""
    app = await start(make_app, smtp_server, outbox_poll_seconds=3600)
    _, mailbox = smtp_server
    author, other = await new_author(app), await new_author(app)
    await add_subscribers(app, ["unconfirmed@example.com"], confirmed=False)
    await add_subscribers(app, ["their-fan@example.com"], author_id=other.id)
    log = StatementCounter(resources_of(app).database, background=True)
    with log() as statements:
        post = await publish(app, author, title="To nobody", send_newsletter=True)
        await until(lambda: announced(resources_of(app).database, post["id"]), "announced")
        await asyncio.sleep(0.3)  # a sender woken by the announcement would have looked by now
    assert await issue_done(app, post["id"])  # the post had its newsletter: it is not sent again
    open_issues_read = [
        sql
        for sql in after_announcing(statements)
        if "FROM newsletter_issues" in sql and "done_at IS NULL" in sql
    ]
    assert open_issues_read == []
    assert await count(app, select(func.count()).select_from(OutboxMail)) == 0
    assert mailbox.messages == []


async def test_a_post_with_a_newsletter_is_mailed_without_waiting_for_the_poll(
    make_app: AppFactory, smtp_server: tuple[Controller, Mailbox]
) -> None:
    app = await start(make_app, smtp_server, outbox_poll_seconds=3600)
    _, mailbox = smtp_server
    author = await new_author(app)
    await add_subscribers(app, ["reader@example.com"])
    await publish(app, author, title="Loud", send_newsletter=True)
    await mailbox.wait_for(1)  # within seconds, the senders' hourly poll notwithstanding
    assert recipients(mailbox.messages, "Loud") == ["reader@example.com"]


async def test_a_scheduled_post_is_mailed_when_due_by_one_process(
    make_app: AppFactory, smtp_server: tuple[Controller, Mailbox]
) -> None:
    first = await start(make_app, smtp_server)
    second = await start(make_app, smtp_server)
    _, mailbox = smtp_server
    author = await new_author(first)
    await add_subscribers(first, ["reader@example.com"])
    later = (utcnow() + timedelta(days=1)).isoformat()
    post = await publish(first, author, title="Tomorrow", published_at=later)
    watchers = [visibility_of(first), visibility_of(second)]
    assert [await w.announce_due() for w in watchers] == [0, 0]  # not yet due
    assert await count(first, select(func.count()).select_from(NewsletterIssue)) == 0
    await due_now(resources_of(first).database, [post["id"]])  # its time comes
    announced = await asyncio.gather(*(w.announce_due() for w in watchers))
    assert sorted(announced) in ([0, 1], [1, 1])  # the lease: one pass at a time
    await until(lambda: issue_done(first, post["id"]), "the issue is queued")
    await outbox_emptied(first)
    assert recipients(mailbox.messages, "Tomorrow") == ["reader@example.com"]


async def test_posts_due_together_are_announced_together_each_mailed_to_its_readers(
    make_app: AppFactory, smtp_server: tuple[Controller, Mailbox]
) -> None:
    """Six posts of two authors due at once: one pass announces them in one transaction,
    whose statements are as many as for one post; the issues of the author with a
    subscriber are mailed to them, the other author's are done at once, mailing nobody."""
    app = await start(make_app, smtp_server)
    _, mailbox = smtp_server
    read, unread = await new_author(app), await new_author(app)
    await add_subscribers(app, ["fan@example.com"], author_id=read.id)
    later = (utcnow() + timedelta(days=1)).isoformat()

    async def schedule(author: User, title: str) -> int:
        post = await publish(app, author, title=title, published_at=later, send_newsletter=True)
        return int(post["id"])

    alone = [await schedule(read, "Alone")]
    together = [
        await schedule(author, f"{author.username} {n}")
        for n in range(3)
        for author in (read, unread)
    ]
    watcher = visibility_of(app)
    log = StatementCounter(resources_of(app).database)  # the pass's own: not the senders'

    await due_now(resources_of(app).database, alone)
    with log() as one_post:
        assert await watcher.announce_due() == 1
    await due_now(resources_of(app).database, together)
    with log() as six_posts:
        assert await watcher.announce_due() == 6

    assert len([sql for sql in six_posts if "SET announce_pending" in sql]) == 1
    # The announcing transaction's statements, and the lease's release.
    assert len(after_announcing(six_posts)) == len(after_announcing(one_post)), six_posts
    for post_id in together[1::2]:  # the unread author's: done as they were made
        assert await issue_done(app, post_id)

    async def all_queued() -> bool:
        return all([await issue_done(app, post_id) for post_id in [*alone, *together]])

    await until(all_queued, "the read author's issues are queued")
    await outbox_emptied(app)
    titles = {message["Subject"] for message in mailbox.messages}
    assert titles == {"Alone", *(f"{read.username} {n}" for n in range(3))}
    assert {str(message["To"]) for message in mailbox.messages} == {"fan@example.com"}


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_a_due_post_another_transaction_holds_is_left_for_the_next_pass(
    make_app: AppFactory, smtp_server: tuple[Controller, Mailbox]
) -> None:
    """Three posts due together, one of them locked by another transaction (an edit, a
    deletion): the pass announces the two others without waiting for it, and the next pass,
    once it is free, announces it. (Waiting, holding the others' locks, it could close a
    deadlock with a deletion that locks the same posts in another order.)"""
    app = await start(make_app, smtp_server)
    author = await new_author(app)
    later = (utcnow() + timedelta(days=1)).isoformat()
    ids = [
        int((await publish(app, author, title=f"Post {n}", published_at=later))["id"])
        for n in range(3)
    ]
    await due_now(resources_of(app).database, ids)
    watcher = visibility_of(app)
    async with resources_of(app).database.transaction() as holding:
        await holding.execute(select(Post.id).where(Post.id == ids[1]).with_for_update())
        announced_now = await asyncio.wait_for(watcher.announce_due(), timeout=5)
        assert announced_now == 3  # three were due; one of them skipped, still pending
        assert [await announced(resources_of(app).database, i) for i in ids] == [
            True,
            False,
            True,
        ]
        await holding.rollback()

    assert await watcher.announce_due() == 1
    assert await announced(resources_of(app).database, ids[1])


async def test_unpublishing_stops_the_mails_not_sent_yet(
    make_app: AppFactory, smtp_server: tuple[Controller, Mailbox]
) -> None:
    # One mail a minute: the first goes at once, the others wait their turn.
    app = await start(make_app, smtp_server, newsletter_mails_per_minute=1)
    _, mailbox = smtp_server
    author = await new_author(app)
    await add_subscribers(app, [f"r{n}@example.com" for n in range(5)])
    post = await publish(app, author, title="Oops")
    await until(lambda: issue_done(app, post["id"]), "the issue is queued")
    await mailbox.wait_for(1)
    async with browser(app) as client:
        response = await client.patch(
            f"/api/posts/{post['id']}", json={"status": "draft"}, headers=bearer(app, author)
        )
    assert response.status_code == 200
    waiting = select(func.count()).select_from(OutboxMail).where(OutboxMail.topic.is_not(None))
    assert await count(app, waiting) == 0
    assert recipients(mailbox.messages, "Oops") == ["r0@example.com"]
    # Published again, it is not mailed again.
    async with browser(app) as client:
        await client.patch(
            f"/api/posts/{post['id']}", json={"status": "published"}, headers=bearer(app, author)
        )
    await visibility_of(app).announce_due()
    assert await count(app, waiting) == 0


async def test_two_hosts_and_a_dead_sender_send_each_mail_once(
    make_app: AppFactory, smtp_server: tuple[Controller, Mailbox]
) -> None:
    # The live senders' leases outlast their sends (0.5 s did not on a loaded machine: a
    # lease that lapses mid-send lets the other host send the same mails again, as the
    # outbox's at-least-once delivery allows); the dead sender's claim below lapses in 0.5 s.
    lease = {"outbox_lease_seconds": 30}
    first = await start(make_app, smtp_server, **lease)
    second = await start(make_app, smtp_server, **lease)
    _, mailbox = smtp_server
    author = await new_author(first)
    emails = [f"reader{n}@example.com" for n in range(60)]
    await add_subscribers(first, emails)
    post = await publish(first, author, title="Everyone")
    # A sender that dies holding mails: it claimed ten and sent none. Their lease lapses
    # and the live senders send them.
    await until(lambda: issue_done(first, post["id"]), "the issue is queued")
    database = resources_of(second).database
    await database.write(
        QUEUE.claim, {"now": utcnow(), "lease_end": utcnow() + timedelta(seconds=0.5), "batch": 10}
    )
    await mailbox.wait_for(60)
    await outbox_emptied(first)
    assert recipients(mailbox.messages, "Everyone") == sorted(emails)
    keys = select(func.count()).select_from(NewsletterDelivery)
    assert await count(first, keys) == 60
    ids = [str(m["Message-ID"]) for m in mailbox.messages]
    assert len(set(ids)) == 60


async def test_fanning_out_from_two_hosts_at_once_queues_each_address_once(
    make_app: AppFactory, smtp_server: tuple[Controller, Mailbox]
) -> None:
    first = await start(make_app, smtp_server)
    second = await start(make_app, smtp_server)
    author = await new_author(first)
    await add_subscribers(first, [f"r{n}@example.com" for n in range(30)])
    # The issue exists, as after an announcement; both hosts fan it out at the same moment,
    # in batches of 7 (their own senders too).
    async with resources_of(first).database.transaction() as session:
        post = Post(title="Race", content="x", user_id=author.id, send_newsletter=True)
        session.add(post)
        await session.flush()
        session.add(NewsletterIssue(post_id=post.id, author_id=author.id))
        await session.commit()
    senders = []
    for app in (first, second):
        resources = resources_of(app)  # (the lifespans' own senders race with these too)
        senders.append(
            IssueSender(
                resources.database,
                resources.outbox,
                resources.settings,
                resources.site,
                resources.process_pool,
                batch=7,
            )
        )

    async def drain(sender: IssueSender) -> None:
        while await sender.queue_batch(post.id) or not await issue_done(first, post.id):
            pass

    await asyncio.gather(*(drain(sender) for sender in senders))
    await outbox_emptied(first)
    mails = select(func.count()).select_from(NewsletterDelivery)
    assert await count(first, mails) == 30
    _, mailbox = smtp_server
    assert len(recipients(mailbox.messages, "Race")) == 30


async def test_a_signed_in_reader_subscribes_in_one_click(
    make_app: AppFactory, smtp_server: tuple[Controller, Mailbox]
) -> None:
    app = await start(make_app, smtp_server)
    _, mailbox = smtp_server
    author = await new_author(app)
    proven = await new_author(app, role="reader")
    unproven = await new_author(app, role="reader")
    async with resources_of(app).database.transaction() as session:
        session.add(
            PasswordResetToken(
                token_hash="0" * 64, user_id=proven.id, expires_at=utcnow(), used_at=utcnow()
            )
        )
        await session.commit()
    for reader in (proven, unproven):
        async with browser(app) as client:
            await browser_login(client, reader)
            page = await client.get(f"/users/{author.id}/posts")
            assert f"Subscribe as {reader.email}" in read_page(page).text
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert csrf
            response = await client.post(
                "/subscriptions/me",
                data={"csrf_token": csrf.group(1), "author_id": str(author.id), "next": "/"},
            )
            assert response.status_code == 303
    confirmed = select(Subscription.email).where(Subscription.confirmed_at.is_not(None))
    async with resources_of(app).database.session() as session:
        assert list((await session.scalars(confirmed)).all()) == [proven.email]
    [mail] = await mailbox.wait_for(1)
    assert mail["To"] == unproven.email  # only the unproven address gets a confirmation


async def test_the_subscribe_box_works_without_javascript(
    make_app: AppFactory, smtp_server: tuple[Controller, Mailbox]
) -> None:
    app = await start(make_app, smtp_server)
    _, mailbox = smtp_server
    async with browser(app) as client:
        home = await client.get("/")
        assert "New posts by email" in read_page(home).text
        response = await client.post("/subscriptions", data={"email": "box@example.com"})
        assert response.status_code == 303
        assert "open the link we mailed you" in read_page(await client.get("/")).text
    [mail] = await mailbox.wait_for(1)
    assert mail["To"] == "box@example.com"


async def test_admins_list_export_and_remove_subscribers(
    make_app: AppFactory, smtp_server: tuple[Controller, Mailbox]
) -> None:
    app = await start(make_app, smtp_server)
    admin = await new_author(app, role="admin")
    reader = await new_author(app, role="reader")
    author = await new_author(app)
    await add_subscribers(app, ["=cmd@example.com", "site@example.com"])
    [fan] = await add_subscribers(app, ["fan@example.com"], author_id=author.id, confirmed=False)
    async with browser(app) as client:
        refused = await client.get("/api/subscriptions/export", headers=bearer(app, reader))
        assert refused.status_code == 403
        assert (await client.get("/api/subscriptions/export")).status_code == 401
        export = await client.get("/api/subscriptions/export", headers=bearer(app, admin))
        assert export.status_code == 200
        assert export.headers["content-type"].startswith("text/csv")
        lines = export.text.splitlines()
        assert lines[0] == "id,email,author_id,author,created_at,confirmed_at"
        assert lines[1].split(",")[1] == "'=cmd@example.com"  # never a formula
        assert len(lines) == 4
        gone = await client.delete(f"/api/subscriptions/{fan.id}", headers=bearer(app, admin))
        assert gone.status_code == 204
        again = await client.delete(f"/api/subscriptions/{fan.id}", headers=bearer(app, admin))
        assert again.status_code == 404
        await browser_login(client, admin)
        page = read_page(await client.get("/admin/subscribers"))
        assert "The whole site" in page.text
        assert "site@example.com" in page.text
        assert "fan@example.com" not in page.text
