"""Bearer tokens: logging in by email or username, and every way a token can be bad."""

import asyncio
import time
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from fastblog.accounts.tokens import TokenClaims, read_token
from tests.accounts import bearer
from tests.conftest import TEST_SECRET_KEY
from tests.factories import PASSWORD, login, make_user

pytestmark = pytest.mark.anyio


@pytest.fixture
async def alice(session: AsyncSession) -> User:
    return await make_user(session, username="Alice", email="alice@example.com")


@pytest.mark.parametrize("identifier", ["alice@example.com", "ALICE@Example.COM", "alice"])
async def test_a_token_by_email_or_username(
    client: httpx.AsyncClient, alice: User, identifier: str
) -> None:
    before = datetime.now(UTC)

    response = await client.post(
        "/api/users/token", data={"username": identifier, "password": PASSWORD}
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    claims = jwt.decode(body["access_token"], TEST_SECRET_KEY, algorithms=["HS256"])
    assert claims["sub"] == str(alice.id)
    expires = datetime.fromtimestamp(claims["exp"], UTC)
    assert before + timedelta(minutes=59) < expires < before + timedelta(minutes=61)
    me = await client.get(
        "/api/users/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.json()["username"] == "Alice"


@pytest.mark.parametrize(
    ("identifier", "password"),
    [
        ("alice@example.com", "wrong password"),
        ("alice", "x"),
        ("nobody@example.com", PASSWORD),
        ("nobody", PASSWORD),
    ],
    ids=["wrong-password", "short-password", "unknown-email", "unknown-username"],
)
async def test_wrong_credentials_are_refused_alike(
    client: httpx.AsyncClient, alice: User, identifier: str, password: str
) -> None:
    response = await client.post(
        "/api/users/token", data={"username": identifier, "password": password}
    )

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {"detail": "Incorrect email, username or password"}


def forged(claims: dict[str, object], key: str = TEST_SECRET_KEY, alg: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=alg)


def hour_from_now() -> datetime:
    return datetime.now(UTC) + timedelta(hours=1)


def bad_authorizations(user_id: int) -> dict[str, dict[str, str]]:
    def header(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    exp = hour_from_now()
    good = forged({"sub": str(user_id), "exp": exp, "ver": 0})
    return {
        "missing": {},
        "empty": {"Authorization": "Bearer "},
        "not-bearer": {"Authorization": f"Basic {good}"},
        "malformed": header("not.a.jwt"),
        "garbage": header("x" * 40),
        "truncated": header(good[:-5]),
        "other-key": header(forged({"sub": str(user_id), "exp": exp, "ver": 0}, "another-key" * 4)),
        "alg-none": header(forged({"sub": str(user_id), "exp": exp, "ver": 0}, "", "none")),
        "expired": header(
            forged({"sub": str(user_id), "exp": datetime.now(UTC) - timedelta(seconds=5), "ver": 0})
        ),
        "no-exp": header(forged({"sub": str(user_id), "ver": 0})),
        "no-version": header(forged({"sub": str(user_id), "exp": exp})),
        "version-not-a-number": header(forged({"sub": str(user_id), "exp": exp, "ver": "0"})),
        "a-later-version": header(forged({"sub": str(user_id), "exp": exp, "ver": 1})),
        "no-sub": header(forged({"exp": exp, "ver": 0})),
        "sub-not-a-number": header(forged({"sub": "alice", "exp": exp, "ver": 0})),
    }


def expected_detail(case: str) -> str:
    """No bearer token at all is "Not authenticated"; a token that is sent but bad is not."""
    if case in ("missing", "empty", "not-bearer"):
        return "Not authenticated"
    return "Invalid or expired token"


async def test_a_missing_or_bad_token_is_401_with_the_bearer_challenge(
    client: httpx.AsyncClient, alice: User
) -> None:
    for case, headers in bad_authorizations(alice.id).items():
        for method, url in (("GET", "/api/users/me"), ("DELETE", f"/api/users/{alice.id}")):
            response = await client.request(method, url, headers=headers)
            assert response.status_code == 401, (case, method, response.text)
            assert response.headers["www-authenticate"] == "Bearer", case
            assert response.json() == {"detail": expected_detail(case)}, (case, method)

    still_there = await client.get(f"/api/users/{alice.id}")
    assert still_there.status_code == 200


async def test_the_token_of_a_deleted_account_is_401(
    app: FastAPI, client: httpx.AsyncClient, alice: User
) -> None:
    headers = bearer(app, alice)
    deleted = await client.delete(f"/api/users/{alice.id}", headers=headers)
    assert deleted.status_code == 204

    response = await client.get("/api/users/me", headers=headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_token_made_with_the_app_key_works(client: httpx.AsyncClient, alice: User) -> None:
    """The control for the test above: the same claims, correctly signed, are accepted."""
    token = forged({"sub": str(alice.id), "exp": hour_from_now(), "ver": 0})

    response = await client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert (response.json()["id"], response.json()["email"]) == (alice.id, alice.email)


async def test_me_is_private_and_a_profile_is_public(
    app: FastAPI, client: httpx.AsyncClient, alice: User, session: AsyncSession
) -> None:
    bob = await make_user(session)

    me = await client.get("/api/users/me", headers=await login(client, alice))
    public = await client.get(f"/api/users/{alice.id}", headers=bearer(app, bob))
    anonymous = await client.get(f"/api/users/{alice.id}")

    assert me.json() == {
        "id": alice.id,
        "username": "Alice",
        "email": "alice@example.com",
        "image_file": None,
        "image_path": "/static/img/default-avatar.png",
        "role": "author",
        "bio": None,
        "bio_html": None,
        "website": None,
        "notify_by_mail": False,
        "unread_notifications": 0,
    }
    for response in (public, anonymous):
        assert response.status_code == 200
        assert response.json()["username"] == "Alice"
        assert "email" not in response.json()
        assert "alice@example.com" not in response.text


async def test_a_token_found_good_is_still_refused_once_expired_or_under_another_key() -> None:
    """A good token is checked once per process and kept: its expiry is still read on every
    use, and it is good only under the key that signed it."""
    expires = int(time.time()) + 2
    token = forged({"sub": "7", "exp": expires, "ver": 3})

    assert read_token(token, secret=TEST_SECRET_KEY) == TokenClaims(7, 3)
    assert read_token(token, secret=TEST_SECRET_KEY) == TokenClaims(7, 3)  # kept
    assert read_token(token, secret="another-key" * 4) is None

    await asyncio.sleep(expires - time.time() + 0.05)
    assert read_token(token, secret=TEST_SECRET_KEY) is None
