"""Names and titles are trimmed; blanks alone are a 422 naming the field, in the API and in every
form; usernames are letters, digits, _ - and . only; forms show every error at once, in plain
language, with the values kept."""

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from tests.accounts import bearer, browser_login, read_form, submit
from tests.factories import make_posts, make_user

pytestmark = pytest.mark.anyio

BLANKS = ["   ", "\t\n", " \r\n "]


@pytest.fixture
async def user(session: AsyncSession) -> User:
    return await make_user(session, username="olga", email="olga@example.com")


def field_of(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    return [str(error["loc"][-1]) for error in response.json()["detail"]]


@pytest.mark.parametrize("blank", BLANKS)
async def test_the_api_refuses_blank_titles_and_usernames(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, user: User, blank: str
) -> None:
    (post,) = await make_posts(session, user, 1)
    headers = bearer(app, user)
    account = {"email": "new@example.com", "password": "long enough"}

    responses = {
        "title": [
            await client.post("/api/posts", json={"title": blank, "content": "c"}, headers=headers),
            await client.put(
                f"/api/posts/{post.id}", json={"title": blank, "content": "c"}, headers=headers
            ),
            await client.patch(f"/api/posts/{post.id}", json={"title": blank}, headers=headers),
        ],
        "username": [
            await client.post("/api/users", json={**account, "username": blank}),
            await client.patch(f"/api/users/{user.id}", json={"username": blank}, headers=headers),
        ],
    }

    for field, answers in responses.items():
        for response in answers:
            assert field_of(response) == [field]


async def test_the_api_trims_titles_and_usernames(
    app: FastAPI, client: httpx.AsyncClient, user: User
) -> None:
    headers = bearer(app, user)

    post = await client.post(
        "/api/posts", json={"title": "  A title \n", "content": "c"}, headers=headers
    )
    renamed = await client.patch(
        f"/api/users/{user.id}", json={"username": " olga.k "}, headers=headers
    )

    assert post.status_code == 201
    assert post.json()["title"] == "A title"
    assert (await client.get(f"/api/posts/{post.json()['id']}")).json()["title"] == "A title"
    assert renamed.status_code == 200
    assert renamed.json()["username"] == "olga.k"


@pytest.mark.parametrize("username", ["ol ga", "olga!", "<b>olga</b>", "ölga", "ol/ga", "o\x00"])
async def test_usernames_are_letters_digits_and_three_marks(
    client: httpx.AsyncClient, username: str
) -> None:
    body = {"username": username, "email": "x@example.com", "password": "long enough"}

    assert field_of(await client.post("/api/users", json=body)) == ["username"]


@pytest.mark.parametrize("username", ["olga", "Olga_K", "o.k-2", "_", "1990"])
async def test_usernames_that_are_allowed(client: httpx.AsyncClient, username: str) -> None:
    body = {"username": username, "email": "x@example.com", "password": "long enough"}

    assert (await client.post("/api/users", json=body)).status_code == 201


async def test_the_forms_refuse_blank_titles_and_usernames(
    client: httpx.AsyncClient, session: AsyncSession, user: User
) -> None:
    (post,) = await make_posts(session, user, 1)
    await browser_login(client, user)

    answers = {
        "/posts/new": await submit(client, "/posts/new", {"title": "   ", "content": "Body"}),
        "edit": await submit(client, f"/posts/{post.id}/edit", {"title": " ", "content": "B"}),
        "/account/profile": await submit(
            client, "/account/profile", {"username": "  ", "email": user.email}
        ),
    }

    for form, response in answers.items():
        assert response.status_code == 422, form
        errors = read_form(response.text).errors
        assert list(errors) == ["username" if form == "/account/profile" else "title"], form
        assert errors[next(iter(errors))] in ("Please enter a title.", "Please enter a username.")
    assert read_form(answers["/posts/new"].text).values["title"] == "   "


async def test_the_register_form_shows_every_error_at_once_in_plain_words(
    client: httpx.AsyncClient,
) -> None:
    values = {"username": "  ", "email": "not an email", "password": "short"}

    response = await submit(client, "/register", values)

    assert response.status_code == 422
    form = read_form(response.text)
    assert form.errors == {
        "username": "Please enter a username.",
        "email": "This doesn't look like an email address.",
        "password": "Please use at least 8 characters.",
    }
    assert form.values["username"] == "  "
    assert form.values["email"] == "not an email"
    assert form.values["password"] is None


async def test_a_username_and_an_email_both_taken_show_both_messages(
    client: httpx.AsyncClient, user: User
) -> None:
    values = {"username": "OLGA", "email": "Olga@example.com", "password": "long enough"}

    page = await submit(client, "/register", values)
    api = await client.post("/api/users", json=values)

    assert page.status_code == 400
    assert read_form(page.text).errors == {
        "username": "Username already taken",
        "email": "Email already registered",
    }
    assert api.status_code == 400
    assert api.json() == {"detail": "Username already taken; Email already registered"}


async def test_the_post_form_names_a_missing_title_and_content_at_once(
    client: httpx.AsyncClient, user: User
) -> None:
    await browser_login(client, user)

    response = await submit(client, "/posts/new", {"title": "", "content": ""})

    assert response.status_code == 422
    assert read_form(response.text).errors == {
        "title": "Please enter a title.",
        "content": "Please enter some content.",
    }


async def test_the_login_field_takes_an_email_or_a_username(
    client: httpx.AsyncClient, user: User
) -> None:
    page = await client.get("/login")
    assert '<label for="email">Email or username</label>' in page.text
    assert 'id="email" name="email" type="text"' in page.text
    assert 'autocomplete="username"' in page.text

    response = await submit(client, "/login", {"email": "olga", "password": "not it"})
    assert response.status_code == 401
    await browser_login(client, user)


async def test_a_choice_left_empty_is_asked_for_in_plain_words(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """A field with no name of its own (the invitation's role, a list to choose from) is "a
    value" in the message, never a blank or a placeholder."""
    admin = await make_user(session, username="ada", email="ada@example.com", role="admin")
    await browser_login(client, admin)

    response = await submit(client, "/admin/invitations", {"email": "lee@example.com", "role": ""})

    assert response.status_code == 422
    assert read_form(response.text).errors == {"role": "Please enter a value."}
