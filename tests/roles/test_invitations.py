"""Invitations end to end: sent through the API or the admins' page, mailed through the outbox
to a real SMTP server (aiosmtpd), accepted in the browser with the link from the mail; a used,
expired, revoked or replaced link is refused with a page that says why."""

import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from fastblog.accounts.models import Invitation, User
from fastblog.db import utcnow
from tests.accounts import bearer, browser, browser_login, read_form, submit
from tests.asgi import resources_of
from tests.auth.conftest import Mailbox
from tests.factories import make_user
from tests.html import read_page

pytestmark = pytest.mark.anyio

PASSWORD = "a brand new passphrase"


@pytest.fixture
async def client(mail_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with browser(mail_app) as client:
        yield client


@pytest.fixture
async def admin(mail_app: FastAPI) -> User:
    async with resources_of(mail_app).database.session() as session:
        await make_user(session, username="boss", role="owner")
        return await make_user(session, username="ada", email="ada@example.com", role="admin")


def join_link(message: EmailMessage) -> str:
    body = message.get_content()
    match = re.search(r"(http://\S+/join\?\S+)", body)
    assert match, body
    link = urlsplit(match.group(1))
    assert link.netloc == "testserver"
    return f"{link.path}?{link.query}"


def token_of(link: str) -> str:
    (token,) = parse_qs(urlsplit(link).query)["token"]
    return token


async def invite(
    client: httpx.AsyncClient, app: FastAPI, admin: User, role: str = "contributor"
) -> httpx.Response:
    return await client.post(
        "/api/invitations",
        json={"email": " Sam@Example.com", "role": role},
        headers=bearer(app, admin),
    )


async def join(client: httpx.AsyncClient, link: str, username: str = "sam") -> httpx.Response:
    page = await client.get(link)
    assert page.status_code == 200, page.text
    return await submit(
        client,
        "/join",
        {"token": token_of(link), "username": username, "password": PASSWORD},
    )


async def test_an_invitation_is_mailed_and_its_link_makes_the_account_with_its_role(
    mail_app: FastAPI, client: httpx.AsyncClient, admin: User, mailbox: Mailbox
) -> None:
    response = await invite(client, mail_app, admin)
    assert response.status_code == 201, response.text
    sent = response.json()
    assert (sent["email"], sent["role"], sent["invited_by_id"]) == (
        "sam@example.com",
        "contributor",
        admin.id,
    )
    assert (
        timedelta(days=6, hours=23)
        < (parse_datetime(sent["expires_at"]) - parse_datetime(sent["created_at"]))
        <= timedelta(days=7)
    )

    (message,) = await mailbox.wait_for(1)
    assert message["To"] == "sam@example.com"
    assert "ada invites you to join fastblog as a contributor." in message.get_content()
    link = join_link(message)

    async with browser(mail_app) as newcomer:
        page = await newcomer.get(link)
        assert page.status_code == 200
        assert "You are invited as a contributor" in " ".join(read_page(page).text.split())
        joined = await join(newcomer, link)
        assert joined.status_code == 303
        assert joined.headers["location"] == "/"
        home = await newcomer.get("/")
        assert "Welcome, sam! You have joined as a contributor." in home.text
        me = await newcomer.get("/account")
        assert me.status_code == 200  # logged in
        assert 'href="/posts/new"' in home.text  # a contributor writes

    created = await client.post("/api/users/token", data={"username": "sam", "password": PASSWORD})
    me = (await client.get("/api/users/me", headers=auth(created))).json()
    assert (me["username"], me["email"], me["role"]) == ("sam", "sam@example.com", "contributor")
    pending = await client.get("/api/invitations", headers=bearer(mail_app, admin))
    assert pending.json() == {"invitations": []}


def parse_datetime(text: str) -> datetime:
    return datetime.fromisoformat(text)


def auth(token_response: httpx.Response) -> dict[str, str]:
    assert token_response.status_code == 200, token_response.text
    return {"Authorization": f"Bearer {token_response.json()['access_token']}"}


async def test_a_link_works_once(
    mail_app: FastAPI, client: httpx.AsyncClient, admin: User, mailbox: Mailbox
) -> None:
    await invite(client, mail_app, admin)
    link = join_link((await mailbox.wait_for(1))[-1])
    async with browser(mail_app) as newcomer:
        assert (await join(newcomer, link)).status_code == 303

    async with browser(mail_app) as someone_else:
        again = await someone_else.get(link)
        assert again.status_code == 410
        assert "This invitation has already been used." in again.text
        sent = await submit(
            someone_else,
            "/join",
            {"token": token_of(link), "username": "sam2", "password": PASSWORD},
        )
        assert sent.status_code == 410
    async with resources_of(mail_app).database.session() as session:
        names = (await session.scalars(select(User.username).order_by(User.id))).all()
    assert names == ["boss", "ada", "sam"]


async def test_an_expired_link_is_refused(
    mail_app: FastAPI, client: httpx.AsyncClient, admin: User, mailbox: Mailbox
) -> None:
    await invite(client, mail_app, admin)
    link = join_link((await mailbox.wait_for(1))[-1])
    async with resources_of(mail_app).database.session() as session:
        await session.execute(update(Invitation).values(expires_at=utcnow() - timedelta(seconds=1)))
        await session.commit()

    async with browser(mail_app) as newcomer:
        page = await newcomer.get(link)
        assert page.status_code == 410
        assert "This invitation has expired: ask for a new one." in page.text
        sent = await submit(
            newcomer, "/join", {"token": token_of(link), "username": "sam", "password": PASSWORD}
        )
        assert sent.status_code == 410
    listed = await client.get("/api/invitations", headers=bearer(mail_app, admin))
    assert listed.json() == {"invitations": []}  # expired: no longer pending


async def test_a_revoked_or_replaced_link_stops_working(
    mail_app: FastAPI, client: httpx.AsyncClient, admin: User, mailbox: Mailbox
) -> None:
    first = (await invite(client, mail_app, admin)).json()
    second = (await invite(client, mail_app, admin, role="author")).json()
    first_link, second_link = (join_link(message) for message in await mailbox.wait_for(2))
    listed = (await client.get("/api/invitations", headers=bearer(mail_app, admin))).json()
    assert [invitation["id"] for invitation in listed["invitations"]] == [second["id"]]

    revoked = await client.delete(
        f"/api/invitations/{second['id']}", headers=bearer(mail_app, admin)
    )
    assert revoked.status_code == 204
    again = await client.delete(f"/api/invitations/{first['id']}", headers=bearer(mail_app, admin))
    assert again.status_code == 404

    async with browser(mail_app) as newcomer:
        for link in (first_link, second_link):
            page = await newcomer.get(link)
            assert page.status_code == 410
            assert "This invitation link does not work" in page.text


async def send(client: httpx.AsyncClient, email: str, role: str) -> httpx.Response:
    return await submit(client, "/admin/invitations", {"email": email, "role": role})


async def test_the_admin_page_lists_sends_and_revokes(
    mail_app: FastAPI, client: httpx.AsyncClient, admin: User, mailbox: Mailbox
) -> None:
    await browser_login(client, admin)
    page = await client.get("/admin/invitations")
    assert page.status_code == 200
    form = read_form(page.text)
    # An admin invites with the roles below admin only.
    options = re.findall(r'<option value="([a-z]+)"', page.text)
    assert options == ["editor", "author", "contributor", "reader"]

    sent = await submit(
        client, "/admin/invitations", {"email": "lee@example.com", "role": "editor"}
    )
    assert sent.status_code == 303
    listed = await client.get("/admin/invitations")
    assert "Invitation sent to lee@example.com." in listed.text
    row = read_page(listed).text
    assert "lee@example.com" in row
    assert "editor" in row
    (message,) = await mailbox.wait_for(1)
    assert message["To"] == "lee@example.com"

    (invitation_id,) = re.findall(r'action="/admin/invitations/(\d+)/revoke"', listed.text)
    revoked = await submit(client, f"/admin/invitations/{invitation_id}/revoke")
    assert revoked.status_code == 303
    after = await client.get("/admin/invitations")
    assert "lee@example.com" not in after.text
    assert "No invitation is waiting." in after.text
    assert set(form.values) >= {"email", "csrf_token"}


async def test_the_admin_page_refuses_what_the_api_refuses(
    mail_app: FastAPI, client: httpx.AsyncClient, admin: User, mailbox: Mailbox
) -> None:
    await browser_login(client, admin)

    bad_email = await submit(client, "/admin/invitations", {"email": "nope", "role": "author"})
    assert bad_email.status_code == 422
    too_high = await submit(
        client, "/admin/invitations", {"email": "x@example.com", "role": "admin"}
    )
    assert too_high.status_code == 403
    assert "You can invite people only with a role below your own" in too_high.text
    taken = await submit(
        client, "/admin/invitations", {"email": "ada@example.com", "role": "reader"}
    )
    assert taken.status_code == 400
    assert "This address already has an account." in taken.text
    assert mailbox.messages == []


@pytest.mark.parametrize(("role", "status"), [("editor", 403), ("author", 403), ("reader", 403)])
async def test_only_admins_see_the_page(
    mail_app: FastAPI, client: httpx.AsyncClient, role: str, status: int
) -> None:
    async with resources_of(mail_app).database.session() as session:
        user = await make_user(session, role=role)
    await browser_login(client, user)

    page = await client.get("/admin/invitations")

    assert page.status_code == status
    assert "Only an admin or the owner can send or revoke invitations." in page.text


@pytest.mark.parametrize(
    ("inviter", "role", "status"),
    [
        ("owner", "admin", 201),
        ("owner", "owner", 403),
        ("admin", "admin", 403),
        ("admin", "editor", 201),
        ("admin", "nobody", 422),
    ],
)
async def test_roles_an_inviter_may_give(
    mail_app: FastAPI, client: httpx.AsyncClient, inviter: str, role: str, status: int
) -> None:
    async with resources_of(mail_app).database.session() as session:
        if inviter != "owner":
            await make_user(session, role="owner")
        user = await make_user(session, role=inviter)

    response = await invite(client, mail_app, user, role=role)

    assert response.status_code == status, response.text
    if status == 422:
        assert response.json()["detail"][0]["loc"] == ["body", "role"]
        assert "There is no such role" in response.json()["detail"][0]["msg"]
