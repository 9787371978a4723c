"""Sign-up through the API: password rules, duplicates, and no password or hash ever shown."""

import anyio
import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from tests.factories import make_user

pytestmark = pytest.mark.anyio


def assert_no_secret(response: httpx.Response, password: str) -> None:
    assert password not in response.text
    assert "$argon2" not in response.text
    assert "password_hash" not in response.text


@pytest.mark.parametrize("length", [8, 128])
async def test_a_password_of_8_to_128_characters_is_accepted(
    client: httpx.AsyncClient, length: int
) -> None:
    password = "p" * length
    body = {"username": "alice", "email": "alice@example.com", "password": password}

    response = await client.post("/api/users", json=body)

    assert response.status_code == 201, response.text
    assert response.json()["username"] == "alice"
    assert response.json()["email"] == "alice@example.com"
    assert_no_secret(response, password)
    token = await client.post("/api/users/token", data={"username": "alice", "password": password})
    assert token.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"password": "7-chars"},
        {"password": "x" * 129},
        {"password": ""},
        {"password": None},
        {},
    ],
    ids=["too-short", "too-long", "empty", "null", "missing"],
)
async def test_a_bad_password_is_refused_and_not_echoed(
    client: httpx.AsyncClient, session: AsyncSession, body: dict[str, object]
) -> None:
    response = await client.post(
        "/api/users", json={"username": "bob", "email": "bob@example.com", **body}
    )

    assert response.status_code == 422
    assert any("password" in error["loc"] for error in response.json()["detail"])
    if body.get("password"):
        assert_no_secret(response, str(body["password"]))
    assert (await session.scalars(select(User))).all() == []


async def test_a_password_is_never_echoed_when_another_field_is_invalid(
    client: httpx.AsyncClient,
) -> None:
    password = "my very secret passphrase"
    for body in (
        {"username": "carol", "email": "not-an-email", "password": password},
        {"username": "carol", "password": password},  # email missing
    ):
        response = await client.post("/api/users", json=body)
        assert response.status_code == 422
        assert_no_secret(response, password)


async def test_no_user_response_contains_a_hash(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    password = "dave's long password"
    created = await client.post(
        "/api/users", json={"username": "dave", "email": "dave@example.com", "password": password}
    )
    token = await client.post("/api/users/token", data={"username": "dave", "password": password})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    user_id = created.json()["id"]

    responses = [
        created,
        token,
        await client.get("/api/users/me", headers=headers),
        await client.get(f"/api/users/{user_id}"),
        await client.patch(f"/api/users/{user_id}", json={"username": "d"}, headers=headers),
        await client.post("/api/posts", json={"title": "t", "content": "c"}, headers=headers),
        await client.get("/api/posts"),
        await client.get(f"/api/users/{user_id}/posts"),
    ]

    for response in responses:
        assert response.is_success, response.text
        assert_no_secret(response, password)


@pytest.mark.parametrize(
    ("field", "taken", "message"),
    [
        ("username", "Erin", "Username already taken"),
        ("email", "ERIN@Example.com", "Email already registered"),
    ],
)
async def test_a_taken_username_or_email_is_refused(
    client: httpx.AsyncClient, session: AsyncSession, field: str, taken: str, message: str
) -> None:
    await make_user(session, username="erin", email="erin@example.com")
    body = {"username": "someone", "email": "someone@example.com", "password": "long enough"}

    response = await client.post("/api/users", json={**body, field: taken})

    assert response.status_code == 400
    assert response.json() == {"detail": message}
    assert len((await session.scalars(select(User))).all()) == 1


async def test_simultaneous_sign_ups_differing_only_in_case_make_one_account(
    client: httpx.AsyncClient,
) -> None:
    statuses: list[int] = []

    async def sign_up(n: int, username: str) -> None:
        body = {"username": username, "email": f"{n}@example.com", "password": "long enough"}
        statuses.append((await client.post("/api/users", json=body)).status_code)

    async with anyio.create_task_group() as group:
        for n, username in enumerate(("Alice", "alice", "ALICE")):
            group.start_soon(sign_up, n, username)

    assert sorted(statuses) == [201, 400, 400]
    token = await client.post(
        "/api/users/token", data={"username": "aLiCe", "password": "long enough"}
    )
    assert token.status_code == 200
