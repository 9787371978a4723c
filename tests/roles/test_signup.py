"""Sign-up as the site has it (REGISTRATION, NEW_ACCOUNT_ROLE): the first account is the
owner, open sign-up gives the new-account role (reader by default), and a site closed or by
invitation says so on /register and answers POST /api/users with a 403."""

from collections.abc import Callable

import anyio
import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from fastblog.resources import Resources
from tests.accounts import browser_login, submit
from tests.factories import PASSWORD, api_create_user, login, make_user
from tests.html import read_page

pytestmark = pytest.mark.anyio

Configure = Callable[..., None]


@pytest.fixture
def site(resources: Resources, monkeypatch: pytest.MonkeyPatch) -> Configure:
    """Set the site settings' registration and new_account_role for one test:
    `site(registration=...)` (the database has no settings row: the copy stays)."""

    def configure(**values: str) -> None:
        current = resources.site.current.model_copy(update=values)
        monkeypatch.setattr(resources.site, "current", current)

    configure(new_account_role="reader")  # the default of a real site
    return configure


async def test_the_first_account_owns_the_site_and_the_next_are_readers(
    client: httpx.AsyncClient, session: AsyncSession, site: Configure
) -> None:
    first = await api_create_user(client, username="founder")
    second = await api_create_user(client, username="visitor")

    assert first.json()["role"] == "owner"
    assert second.json()["role"] == "reader"
    headers = await login(client, second.json())
    refused = await client.post(
        "/api/posts", json={"title": "Hi", "content": "Words."}, headers=headers
    )
    assert refused.status_code == 403
    assert refused.json()["detail"] == (
        "Readers cannot write posts. An admin can make you a contributor or an author."
    )
    assert (await client.get("/api/posts")).json()["total"] == 0


async def test_a_reader_sees_no_new_post_link_and_no_form(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_user(session, role="owner")
    reader = await make_user(session, role="reader")
    await browser_login(client, reader)

    home = read_page(await client.get("/"))
    form = await client.get("/posts/new")
    sent = await submit(client, "/posts/new", {"title": "t", "content": "c", "action": "publish"})

    assert not home.has_link("New post")
    assert not home.has_link("Drafts")
    assert home.has_link(reader.username)  # logged in
    assert form.status_code == 403
    assert "Readers cannot write posts." in form.text
    assert sent.status_code == 403
    assert (await client.get("/api/posts")).json()["total"] == 0


async def test_new_accounts_get_the_configured_role(
    client: httpx.AsyncClient, session: AsyncSession, site: Configure
) -> None:
    await make_user(session, role="owner")
    site(new_account_role="contributor")

    created = await api_create_user(client)

    assert created.json()["role"] == "contributor"


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("closed", "Sign-up is closed on this site."),
        ("invite", "This site takes new accounts by invitation only"),
    ],
)
async def test_a_closed_or_invite_only_site_refuses_sign_up(
    client: httpx.AsyncClient, session: AsyncSession, site: Configure, mode: str, message: str
) -> None:
    await make_user(session, role="owner")
    site(registration=mode)

    api = await api_create_user(client, username="late")
    page = await client.get("/register")
    form = await submit(
        client, "/register", {"username": "late", "email": "late@x.org", "password": PASSWORD}
    )

    assert api.status_code == 403
    assert api.json()["detail"].startswith(message)
    assert page.status_code == 200
    assert message in read_page(page).text
    assert 'action="/register"' not in page.text  # no form to fill in for nothing
    assert form.status_code == 403
    assert message in form.text
    names = (await session.scalars(select(User.username))).all()
    assert "late" not in names


async def test_an_empty_site_takes_its_owner_whatever_the_mode(
    client: httpx.AsyncClient, site: Configure
) -> None:
    site(registration="closed")

    first = await api_create_user(client, username="founder")
    second = await api_create_user(client, username="latecomer")

    assert first.status_code == 201
    assert first.json()["role"] == "owner"
    assert second.status_code == 403


async def test_simultaneous_first_sign_ups_give_one_owner(
    client: httpx.AsyncClient, session: AsyncSession, site: Configure
) -> None:
    statuses: list[int] = []

    async def sign_up(n: int) -> None:
        statuses.append((await api_create_user(client, username=f"racer{n}")).status_code)

    async with anyio.create_task_group() as group:
        for n in range(4):
            group.start_soon(sign_up, n)

    assert statuses == [201] * 4
    found = (await session.scalars(select(User.role))).all()
    assert sorted(found) == ["owner", "reader", "reader", "reader"]
