"""The browser side of accounts: CSRF, the session cookie, redirects, flashes, form errors."""

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from tests.accounts import (
    browser,
    browser_login,
    csrf_token,
    image_bytes,
    read_form,
    submit,
)
from tests.auth.conftest import AppFactory
from tests.factories import PASSWORD, make_posts, make_user
from tests.html import read_page

pytestmark = pytest.mark.anyio


@pytest.fixture
async def user(session: AsyncSession) -> User:
    return await make_user(session, username="frank", email="frank@example.com")


def state_changing_forms(
    post_id: int,
) -> list[tuple[str, dict[str, str], dict[str, tuple[str, bytes, str]] | None]]:
    return [
        ("/register", {"username": "x", "email": "x@example.com", "password": "long enough"}, None),
        ("/login", {"email": "frank@example.com", "password": PASSWORD}, None),
        ("/logout", {}, None),
        ("/forgot-password", {"email": "frank@example.com"}, None),
        ("/reset-password", {"token": "t", "new_password": "long enough"}, None),
        ("/account/profile", {"username": "hacked", "email": "hacked@example.com"}, None),
        ("/account/password", {"current_password": PASSWORD, "new_password": "hacked!!"}, None),
        ("/account/picture", {}, {"picture": ("p.png", image_bytes(), "image/png")}),
        ("/account/picture/delete", {}, None),
        ("/account/notifications", {"notify_by_mail": "on"}, None),
        ("/notifications/read", {}, None),
        ("/posts/new", {"title": "Forged", "content": "Forged"}, None),
        (f"/posts/{post_id}/edit", {"title": "Forged", "content": "Forged"}, None),
        (f"/posts/{post_id}/delete", {}, None),
    ]


async def test_every_form_refuses_a_post_without_a_valid_csrf_token(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, user: User
) -> None:
    (post,) = await make_posts(session, user, 1)
    await browser_login(client, user)
    async with browser(app) as stranger:
        foreign_token = await csrf_token(stranger)

    for url, data, files in state_changing_forms(post.id):
        for token in (None, "", "forged", foreign_token):
            fields = data if token is None else {**data, "csrf_token": token}
            response = await client.post(url, data=fields, files=files)
            assert response.status_code == 403, (url, token)
            assert (
                "403 Not allowed The form has expired or did not come from this site. "
                "Reload it and retry. Back to the home page"
            ) in read_page(response).text

    me = (await client.get(f"/api/users/{user.id}")).json()
    assert me["username"] == "frank"
    assert me["image_file"] is None
    assert not await session.scalar(select(User.notify_by_mail).where(User.id == user.id))
    assert (await client.get(f"/api/posts/{post.id}")).json()["title"] == post.title
    assert (await client.get("/api/posts")).json()["total"] == 1
    assert [u.username for u in (await session.scalars(select(User))).all()] == ["frank"]
    assert (await client.get("/account")).status_code == 200  # still logged in


async def test_an_anonymous_form_post_without_a_session_is_refused(
    client: httpx.AsyncClient, user: User
) -> None:
    response = await client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": ""}
    )

    assert response.status_code == 403
    assert "fastblog_session" not in response.headers.get("set-cookie", "")


def session_cookie(response: httpx.Response) -> str:
    cookies = [c for c in response.headers.get_list("set-cookie") if "fastblog_session=" in c]
    assert len(cookies) == 1, cookies
    return cookies[0].lower()


async def test_login_sets_an_httponly_samesite_cookie_and_redirects_with_303(
    client: httpx.AsyncClient, user: User
) -> None:
    response = await browser_login(client, user)

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = session_cookie(response)
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie
    assert "path=/" in cookie


async def test_a_form_opened_before_logging_in_is_still_accepted_after(
    client: httpx.AsyncClient, user: User
) -> None:
    """Logging in starts a fresh session but keeps its CSRF token: a form opened in another
    tab before logging in still works."""
    opened_before = await csrf_token(client)
    await browser_login(client, user)

    response = await client.post("/logout", data={"csrf_token": opened_before})

    assert response.status_code == 303
    assert "You are logged out." in (await client.get("/")).text


async def test_the_api_files_and_feeds_never_touch_the_session_cookie(
    client: httpx.AsyncClient, user: User
) -> None:
    """A logged-in browser's requests outside the pages, a missing file's 404 included, get
    the same answer as anyone's: no Set-Cookie, no Vary: Cookie (a shared cache may keep
    them), while a page reads the session and says so."""
    await browser_login(client, user)

    page = await client.get("/")
    assert "cookie" in page.headers["vary"].lower()
    urls = {"/api/posts": 200, "/feed.xml": 200, "/sitemap.xml": 200, "/robots.txt": 200}
    urls |= {"/health": 200, "/static/missing.css": 404, "/media/missing.png": 404}
    for url, status in urls.items():
        response = await client.get(url)
        assert response.status_code == status, url
        assert "set-cookie" not in response.headers, url
        assert "cookie" not in response.headers.get("vary", "").lower(), url
        assert 'href="/account"' not in response.text, url


async def test_over_https_the_session_cookie_is_secure(
    make_app: AppFactory, session: AsyncSession
) -> None:
    app = await make_app(https=True)
    async with browser(app) as client:
        response = await client.get("/login")

        cookie = session_cookie(response)
        assert "secure" in cookie
        assert "httponly" in cookie
        assert "samesite=lax" in cookie


async def test_flash_messages_show_once(client: httpx.AsyncClient, user: User) -> None:
    await browser_login(client, user)

    first = await client.get("/")
    second = await client.get("/")

    # Shown once, in the success style (green): the default for a flash.
    assert '<div class="flash flash-success" role="status">Welcome back, frank!</div>' in first.text
    assert "Welcome back, frank!" not in second.text


async def test_logout_ends_the_session_and_says_so(client: httpx.AsyncClient, user: User) -> None:
    await browser_login(client, user)

    response = await submit(client, "/logout")

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    home = await client.get("/")
    assert "You are logged out." in home.text
    assert 'href="/account"' not in home.text
    assert (await client.get("/account")).status_code == 303


async def test_a_wrong_password_in_the_form_keeps_the_email(
    client: httpx.AsyncClient, user: User
) -> None:
    response = await submit(client, "/login", {"email": user.email, "password": "not it"})

    assert response.status_code == 401
    assert "Incorrect email, username or password." in response.text
    form = read_form(response.text)
    assert form.values["email"] == "frank@example.com"
    assert form.values["password"] is None
    assert "not it" not in response.text


async def test_register_in_the_browser_logs_in(client: httpx.AsyncClient) -> None:
    response = await submit(
        client,
        "/register",
        {"username": "grace", "email": "grace@example.com", "password": "grace's password"},
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    home = await client.get("/")
    assert "Welcome, grace! Your account is ready." in home.text
    assert 'href="/account"' in home.text


@pytest.mark.parametrize(
    ("fields", "field_in_error", "message"),
    [
        ({"email": "not-an-email"}, "email", "email"),
        ({"password": "short"}, "password", "at least 8 characters"),
        ({"password": " " * 12}, "password", "cannot be only blanks"),
        ({"password": "Football1"}, "password", "10,000 most common passwords"),
        ({"username": "frank"}, "username", "Username already taken"),
        ({"email": "FRANK@example.com"}, "email", "Email already registered"),
    ],
)
async def test_register_errors_are_shown_beside_the_field_and_the_input_kept(
    client: httpx.AsyncClient,
    user: User,
    fields: dict[str, str],
    field_in_error: str,
    message: str,
) -> None:
    values = {"username": "heidi", "email": "heidi@example.com", "password": "long enough"}
    values.update(fields)

    response = await submit(client, "/register", values)

    assert response.status_code in (400, 422)
    form = read_form(response.text)
    assert list(form.errors) == [field_in_error]
    assert message in form.errors[field_in_error]
    assert form.values["username"] == values["username"]
    assert form.values["email"] == values["email"]
    assert form.values["password"] is None
    assert 'aria-describedby="' + field_in_error + '-error"' in response.text


async def test_the_header_shows_who_is_logged_in(client: httpx.AsyncClient, user: User) -> None:
    anonymous = (await client.get("/")).text
    await browser_login(client, user)
    logged_in = (await client.get("/")).text

    assert 'href="/login"' in anonymous
    assert 'href="/register"' in anonymous
    for link in ('href="/account"', 'href="/posts/new"', 'action="/logout"', "frank"):
        assert link not in anonymous
        assert link in logged_in
    assert 'href="/login"' not in logged_in


async def test_the_header_shows_who_is_logged_in_on_a_missing_page_too(
    client: httpx.AsyncClient, user: User
) -> None:
    await browser_login(client, user)

    for url in ("/posts/9999", "/users/9999/posts"):
        response = await client.get(url)
        assert response.status_code == 404
        assert 'href="/account"' in response.text, url
        assert 'href="/login"' not in response.text, url


EVIL_NEXTS = [
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    "http:/evil.example",
    "evil.example",
    "",
]


async def test_next_only_goes_to_local_paths(client: httpx.AsyncClient, user: User) -> None:
    for evil in EVIL_NEXTS:
        page = await client.get("/login", params={"next": evil})
        assert read_form(page.text).values["next"] == "/", evil

    response = await submit(
        client, "/login", {"email": user.email, "password": PASSWORD, "next": "//evil.example"}
    )
    assert response.headers["location"] == "/"

    for evil in EVIL_NEXTS:  # logged in, /login sends you on at once
        redirect = await client.get("/login", params={"next": evil})
        assert redirect.status_code == 303
        assert redirect.headers["location"] == "/", evil


async def test_next_leads_back_to_the_page_that_asked_for_login(
    client: httpx.AsyncClient, user: User
) -> None:
    asked = await client.get("/posts/new")
    login_page = await client.get(asked.headers["location"])
    next_path = read_form(login_page.text).values["next"]
    assert next_path == "/posts/new"

    response = await submit(
        client, "/login", {"email": user.email, "password": PASSWORD, "next": next_path}
    )

    assert response.headers["location"] == "/posts/new"
    assert (await client.get("/posts/new")).status_code == 200
