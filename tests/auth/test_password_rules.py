"""A new password is refused when it is only blanks or one of the 10,000 most common."""

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.schemas import common_passwords
from tests.factories import PASSWORD, login, make_user

pytestmark = pytest.mark.anyio

COMMON = ["password", "12345678", "iloveyou", "PassWord1", "football"]


def test_the_list_holds_the_10000_most_common_passwords() -> None:
    listed = common_passwords()

    assert len(listed) == 10_000
    assert {"123456", "password", "qwerty", "dragon"} <= listed
    assert PASSWORD not in listed


@pytest.mark.parametrize("password", [*COMMON, " " * 8, "\t \n " * 3])
async def test_signing_up_with_a_common_or_blank_password_is_a_422(
    client: httpx.AsyncClient, password: str
) -> None:
    body = {"username": "ada", "email": "ada@example.com", "password": password}

    response = await client.post("/api/users", json=body)

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "password"]
    expected = "only blanks" if not password.strip() else "10,000 most common passwords"
    assert expected in error["msg"]


async def test_an_uncommon_password_is_accepted(client: httpx.AsyncClient) -> None:
    body = {"username": "ada", "email": "ada@example.com", "password": "  kettle of otters  "}

    response = await client.post("/api/users", json=body)

    assert response.status_code == 201


@pytest.mark.parametrize("password", ["qwertyuiop", "          "])
async def test_changing_to_a_common_or_blank_password_is_a_422(
    client: httpx.AsyncClient, session: AsyncSession, password: str
) -> None:
    user = await make_user(session)
    headers = await login(client, user)

    response = await client.patch(
        "/api/users/me/password",
        json={"current_password": PASSWORD, "new_password": password},
        headers=headers,
    )

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "new_password"]
