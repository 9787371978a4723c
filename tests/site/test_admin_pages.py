"""/admin and /admin/settings: for admins and the owner, through a browser session with CSRF."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.roles import Role
from fastblog.posts.models import DRAFT, Post
from tests.accounts import browser, browser_login, is_login_redirect, read_form, submit
from tests.factories import make_posts, make_user
from tests.html import read_page

pytestmark = pytest.mark.anyio

FORM = {
    "title": "Harbour Notes",
    "description": "Boats and code.",
    "navigation": "Home | /\nAbout | /about",
    "footer": "© 2026 Ana Lima",
    "registration": "invite",
    "new_account_role": "contributor",
    "comments": "approve_all",
    "timezone": "Europe/Lisbon",
    "posts_per_page": "7",
}


async def test_an_admin_saves_the_settings_form_and_every_page_shows_them(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await make_user(session, role=Role.ADMIN)
    async with browser(app) as ana:
        await browser_login(ana, admin)
        form = read_form((await ana.get("/admin/settings")).text)
        assert form.values["title"] == "fastblog"

        saved = await submit(ana, "/admin/settings", FORM)

        assert saved.status_code == 303
        assert saved.headers["location"] == "/admin/settings"
        after = await ana.get("/admin/settings")
        assert "The settings are saved." in read_page(after).text
        assert read_form(after.text).values["timezone"] == "Europe/Lisbon"
        assert read_page(await ana.get("/")).link("About").path == "/about"
    site = (await client.get("/api/site")).json()
    assert site["navigation"] == [
        {"label": "Home", "url": "/"},
        {"label": "About", "url": "/about"},
    ]
    assert (site["registration"], site["new_account_role"], site["posts_per_page"]) == (
        "invite",
        "contributor",
        7,
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", " ", "The title needs some text."),
        (
            "timezone",
            "Atlantis/Capital",
            "The time zone is a name such as Europe/Paris, America/New_York or UTC.",
        ),
        ("posts_per_page", "many", "Posts per page is a whole number from 1 to 100."),
        (
            "navigation",
            "Home /",
            "Line 1: write a label, a bar and an address, such as About | /about",
        ),
        (
            "navigation",
            "Home | /\nEvil | javascript:alert(1)",
            "Line 2: A link goes to a path on this site (/about) or to an http or https address.",
        ),
    ],
)
async def test_a_wrong_value_comes_back_beside_its_field(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    field: str,
    value: str,
    message: str,
) -> None:
    admin = await make_user(session, role=Role.OWNER)
    async with browser(app) as ana:
        await browser_login(ana, admin)

        response = await submit(ana, "/admin/settings", {**FORM, field: value})

    assert response.status_code == 422
    form = read_form(response.text)
    assert form.errors == {field: message}
    assert (await client.get("/api/site")).json()["title"] == "fastblog"


async def test_the_form_needs_the_sessions_csrf_token(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await make_user(session, role=Role.ADMIN)
    async with browser(app) as ana:
        await browser_login(ana, admin)
        response = await ana.post("/admin/settings", data=FORM)

    assert response.status_code == 403
    assert (await client.get("/api/site")).json()["title"] == "fastblog"


@pytest.mark.parametrize("path", ["/admin", "/admin/settings"])
async def test_below_admin_gets_a_403_page_and_anonymous_the_login(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, path: str
) -> None:
    editor = await make_user(session, role=Role.EDITOR)
    async with browser(app) as ed:
        await browser_login(ed, editor)
        refused = await ed.get(path)
        posted = await submit(ed, "/admin/settings", FORM)
        header = read_page(await ed.get("/"))

    assert refused.status_code == 403
    assert "Only an admin or the owner can" in read_page(refused).text
    assert posted.status_code == 403
    assert not header.has_link("Admin")
    assert is_login_redirect(await client.get(path), path)


async def test_the_dashboard_counts_posts_by_status_and_accounts_by_role(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    owner = await make_user(session, role=Role.OWNER)
    author = await make_user(session, role=Role.AUTHOR)
    await make_user(session, role=Role.READER)
    await make_user(session, role=Role.READER)
    await make_posts(session, author, 3)
    session.add(
        Post(
            title="Later",
            content="Soon.",
            user_id=author.id,
            published_at=datetime.now(UTC) + timedelta(days=3),
        )
    )
    session.add(
        Post(title="Unfinished", content="Hm.", user_id=author.id, status=DRAFT, published_at=None)
    )
    await session.commit()

    async with browser(app) as boss:
        await browser_login(boss, owner)
        home = read_page(await boss.get("/"))
        page = read_page(await boss.get("/admin"))

    assert home.link("Admin").path == "/admin"
    for line in ("Published : 3", "Scheduled: 1", "Drafts: 1", "In review: 0"):
        assert line in page.text, page.text
    for line in ("4 accounts", "Owner: 1", "Admin: 0", "Author: 1", "Reader: 2"):
        assert line in page.text, page.text
    assert page.link("Site settings").path == "/admin/settings"


def test_the_forms_choices_are_the_settings_values() -> None:
    from fastblog.admin.views import CHOICES
    from fastblog.site.schemas import COMMENTS, NEW_ACCOUNT_ROLES, REGISTRATION

    assert list(CHOICES["registration"]) == list(REGISTRATION)
    assert list(CHOICES["comments"]) == list(COMMENTS)
    assert list(CHOICES["new_account_role"]) == list(NEW_ACCOUNT_ROLES)
