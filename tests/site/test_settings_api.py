"""GET /api/site for anyone; PATCH /api/site for admins and the owner, and what it refuses."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.roles import Role
from fastblog.site.models import SiteSettingsRow
from fastblog.site.schemas import NEW_ACCOUNT_ROLES
from tests.accounts import bearer
from tests.factories import make_user

pytestmark = pytest.mark.anyio

FIELDS = {
    "title",
    "description",
    "navigation",
    "footer",
    "registration",
    "new_account_role",
    "comments",
    "timezone",
    "posts_per_page",
    "share_image",
    "newsletter_default",
}


async def test_anyone_reads_the_settings_of_a_new_site_from_the_environment(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/site")

    assert response.status_code == 200
    assert set(response.json()) == FIELDS
    assert response.json() == {
        "title": "fastblog",
        "description": "Posts and their authors, on an async-first blog.",
        "navigation": [{"label": "Home", "url": "/"}],
        "footer": "",
        "registration": "open",
        "new_account_role": "author",  # the test settings' (make_settings), not the default
        "comments": "approve_first",
        "timezone": "UTC",
        "posts_per_page": 10,
        "share_image": "",
        "newsletter_default": True,
    }


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OWNER])
async def test_an_admin_or_the_owner_changes_settings_and_they_are_kept(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, role: Role
) -> None:
    admin = await make_user(session, role=role)
    change = {
        "title": "Notes from the Harbour",
        "navigation": [
            {"label": "About", "url": "/about"},
            {"label": "Mastodon", "url": "https://example.social/@me"},
        ],
        "timezone": "Europe/Paris",
        "comments": "approve_all",
        "posts_per_page": 5,
    }

    response = await client.patch("/api/site", json=change, headers=bearer(app, admin))

    assert response.status_code == 200, response.text
    assert response.json()["title"] == "Notes from the Harbour"
    assert response.json()["registration"] == "open"  # left out: unchanged
    after = (await client.get("/api/site")).json()
    assert {name: after[name] for name in change} == change
    row = (await session.execute(select(SiteSettingsRow))).scalar_one()
    assert (row.title, row.timezone, row.posts_per_page) == (
        "Notes from the Harbour",
        "Europe/Paris",
        5,
    )
    assert row.navigation[1] == {"label": "Mastodon", "url": "https://example.social/@me"}


@pytest.mark.parametrize("role", [Role.EDITOR, Role.AUTHOR, Role.CONTRIBUTOR, Role.READER])
async def test_anyone_below_admin_is_refused_in_plain_words(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, role: Role
) -> None:
    user = await make_user(session, role=role)

    response = await client.patch(
        "/api/site", json={"title": "Mine now"}, headers=bearer(app, user)
    )

    assert response.status_code == 403
    assert response.json() == {"detail": "Only an admin or the owner can change site settings."}
    assert (await client.get("/api/site")).json()["title"] == "fastblog"


async def test_an_anonymous_change_is_401(client: httpx.AsyncClient) -> None:
    response = await client.patch("/api/site", json={"title": "Mine now"})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("change", "loc", "message"),
    [
        ({"title": "   "}, ["body", "title"], "The title needs some text."),
        ({"title": None}, ["body", "title"], "The title must be text."),
        ({"title": "x" * 101}, ["body", "title"], "The title is at most 100 characters."),
        ({"footer": "x" * 501}, ["body", "footer"], "The footer is at most 500 characters."),
        (
            {"timezone": "Mars/Olympus_Mons"},
            ["body", "timezone"],
            "The time zone is a name such as Europe/Paris, America/New_York or UTC.",
        ),
        (
            {"registration": "maybe"},
            ["body", "registration"],
            "Registration is one of: open, invite or closed.",
        ),
        (
            {"comments": "yes"},
            ["body", "comments"],
            "Comments is one of: open, approve_first, approve_all or closed.",
        ),
        (
            {"new_account_role": "admin"},
            ["body", "new_account_role"],
            "The role of new accounts is one of: reader, contributor, author or editor.",
        ),
        (
            {"posts_per_page": 0},
            ["body", "posts_per_page"],
            "Posts per page is a whole number from 1 to 100.",
        ),
        (
            {"posts_per_page": "10"},
            ["body", "posts_per_page"],
            "Posts per page is a whole number from 1 to 100.",
        ),
        (
            {"navigation": [{"label": "Evil", "url": "javascript:alert(1)"}]},
            ["body", "navigation", 0, "url"],
            "A link goes to a path on this site (/about) or to an http or https address.",
        ),
        (
            {"navigation": [{"label": "Away", "url": "//evil.example"}]},
            ["body", "navigation", 0, "url"],
            "A link goes to a path on this site (/about) or to an http or https address.",
        ),
        (
            {"navigation": [{"label": "", "url": "/about"}]},
            ["body", "navigation", 0, "label"],
            "A link's label needs some text.",
        ),
        (
            {"navigation": "Home"},
            ["body", "navigation"],
            "The navigation is a list of links, each with a label and a url.",
        ),
        ({"colour": "blue"}, ["body"], "There is no setting named 'colour'."),
    ],
)
async def test_a_bad_value_is_a_422_naming_the_field(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    change: dict[str, Any],
    loc: list[Any],
    message: str,
) -> None:
    admin = await make_user(session, role=Role.ADMIN)

    response = await client.patch("/api/site", json=change, headers=bearer(app, admin))

    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert (error["loc"], error["msg"]) == (loc, message)
    assert (await client.get("/api/site")).json()["title"] == "fastblog"


def test_new_accounts_may_start_as_any_role_below_admin() -> None:
    assert set(NEW_ACCOUNT_ROLES) == {role.value for role in Role} - {"admin", "owner"}
