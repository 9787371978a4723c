"""PUT /api/users/{id}/role: who may give which role to whom, the handover of ownership, the
one-owner rule, and the CLI's set-role (with the moderator aliases)."""

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from fastblog.config import Settings
from tests.accounts import bearer
from tests.comments.test_moderators import fastblog_users
from tests.factories import make_user
from tests.processes import fastblog_in_process

pytestmark = pytest.mark.anyio


async def put_role(
    client: httpx.AsyncClient, app: FastAPI, by: User, target: User, role: str
) -> httpx.Response:
    return await client.put(
        f"/api/users/{target.id}/role", json={"role": role}, headers=bearer(app, by)
    )


async def roles(session: AsyncSession) -> dict[str, str]:
    rows = await session.execute(select(User.username, User.role).order_by(User.id))
    return {username: role for username, role in rows.all()}


# (who acts, whom they change (their role before), the role given) -> status
CASES = [
    ("owner", "author", "admin", 200),
    ("owner", "admin", "reader", 200),
    ("admin", "author", "editor", 200),
    ("admin", "editor", "contributor", 200),
    ("admin", "author", "admin", 403),
    ("admin", "other-admin", "reader", 403),
    ("admin", "owner", "reader", 403),
    ("admin", "author", "owner", 403),
    ("editor", "author", "contributor", 403),
    ("author", "author", "editor", 403),
    ("reader", "author", "reader", 403),
]


@pytest.mark.parametrize(("actor", "target", "role", "status"), CASES)
async def test_who_may_give_which_role(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    actor: str,
    target: str,
    role: str,
    status: int,
) -> None:
    users = {"owner": await make_user(session, username="owner", role="owner")}
    for name in ("admin", "other-admin", "editor", "author", "reader"):
        users[name] = await make_user(
            session, username=name, role="admin" if name == "other-admin" else name
        )
    before = await roles(session)

    response = await put_role(client, app, users[actor], users[target], role)

    assert response.status_code == status, response.text
    after = await roles(session)
    if status == 200:
        assert response.json()["role"] == role
        assert after == {**before, target: role}
    else:
        assert after == before
        detail = response.json()["detail"]
        assert "Only" in detail or "only" in detail


async def test_the_owner_hands_ownership_on_and_becomes_an_admin(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    owner = await make_user(session, username="first", role="owner")
    heir = await make_user(session, username="heir", role="editor")

    response = await put_role(client, app, owner, heir, "owner")

    assert response.status_code == 200
    assert response.json()["role"] == "owner"
    assert await roles(session) == {"first": "admin", "heir": "owner"}
    # The old owner is an admin now: the new owner's account is out of reach.
    refused = await put_role(client, app, owner, heir, "reader")
    assert refused.status_code == 403
    assert refused.json()["detail"] == (
        "Only the owner can change the owner's role or hand ownership on."
    )


async def test_the_owner_cannot_leave_the_site_without_an_owner(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    owner = await make_user(session, username="first", role="owner")

    response = await put_role(client, app, owner, owner, "admin")

    assert response.status_code == 409
    assert "always has an owner: hand ownership on first" in response.json()["detail"]
    assert await roles(session) == {"first": "owner"}


@pytest.mark.parametrize("body", [{"role": "king"}, {"role": ""}, {"role": 3}, {}])
async def test_an_unknown_role_is_a_422_naming_the_field(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, body: dict[str, object]
) -> None:
    owner = await make_user(session, role="owner")
    author = await make_user(session)

    response = await client.put(
        f"/api/users/{author.id}/role", json=body, headers=bearer(app, owner)
    )

    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "role"]


async def test_401_then_404(app: FastAPI, client: httpx.AsyncClient, session: AsyncSession) -> None:
    owner = await make_user(session, role="owner")

    anonymous = await client.put(f"/api/users/{owner.id}/role", json={"role": "reader"})
    missing = await client.put(
        "/api/users/999/role", json={"role": "reader"}, headers=bearer(app, owner)
    )

    assert anonymous.status_code == 401
    assert missing.status_code == 404


async def test_the_database_holds_one_owner_at_most(session: AsyncSession) -> None:
    await make_user(session, role="owner")

    with pytest.raises(IntegrityError):
        await make_user(session, role="owner")


async def test_set_role_from_the_command_line(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, tmp_path: Path
) -> None:
    await make_user(session, username="first", email="first@example.com", role="owner")
    await make_user(session, username="kim", email="kim@example.com")
    kim = "kim@example.com"

    status, out, err = await fastblog_users(
        settings, tmp_path, "set-role", "KIM@example.com", "contributor"
    )
    assert (status, out.strip()) == (0, "kim (kim@example.com) is now a contributor."), err
    assert await roles(session) == {"first": "owner", "kim": "contributor"}

    # The operator hands ownership on, as the owner would. The commands after the first run
    # in this process: the same parsing, code and messages, without an interpreter each.
    status, out, err = await fastblog_in_process(
        settings, "users", "set-role", "kim@example.com", "owner"
    )
    assert status == 0, err
    assert await roles(session) == {"first": "admin", "kim": "owner"}

    status, _, err = await fastblog_in_process(
        settings, "users", "set-role", "kim@example.com", "reader"
    )
    assert status == 1
    assert "always has an owner: hand ownership on first" in err
    status, _, err = await fastblog_in_process(settings, "users", "revoke-moderator", kim)
    assert status == 1  # the old alias is a role change like any other: the owner stays
    assert "hand ownership on first" in err
    assert await roles(session) == {"first": "admin", "kim": "owner"}
    status, _, err = await fastblog_in_process(settings, "users", "set-role", kim, "king")
    assert status == 2  # argparse: not a role
    assert "invalid choice" in err
