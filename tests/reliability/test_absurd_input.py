"""Absurd input gets a 422 (an HTML page or JSON), never a 500, on both backends.

Numbers out of range, ids beyond 64 bits, bytes that are not UTF-8, NUL in every string
field of the API and of the browser forms: refused as invalid input, and nothing stored.
"""

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from fastblog.posts.models import Post
from tests.factories import PASSWORD, login, make_posts, make_user
from tests.reliability.browser import browser_login, csrf_token

pytestmark = pytest.mark.anyio

BEYOND_64_BITS = [str(2**63), str(2**64), "9" * 40]
NUL = "nul\x00byte"
NOT_UTF8 = b"\xff\xfe\xc3\x28"


def is_json_422(response: httpx.Response) -> bool:
    return response.status_code == 422 and isinstance(response.json()["detail"], list)


def is_html_422(response: httpx.Response) -> bool:
    return response.status_code == 422 and response.headers["content-type"].startswith("text/html")


async def count(session: AsyncSession, model: type[User] | type[Post]) -> int:
    return await session.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.parametrize(
    "query",
    [
        f"limit={10**12}",
        "skip=-1",
        "limit=0",
        "limit=-5",
        f"skip={10**30}",
        "limit=1e3",
        "skip=1.5",
        "limit=",
        "limit=%ff%fe",
        "skip=%00",
        "limit=%F0%28%8C%28",
    ],
)
async def test_absurd_paging_is_422(
    client: httpx.AsyncClient, session: AsyncSession, query: str
) -> None:
    user = await make_user(session)

    for path in ("/api/posts", f"/api/users/{user.id}/posts"):
        response = await client.get(f"{path}?{query}")
        assert is_json_422(response), (path, response.text)


@pytest.mark.parametrize("page", [str(10**12), "-1", "0", "%ff", "%00", "9" * 40])
async def test_absurd_page_numbers_are_an_html_422(
    client: httpx.AsyncClient, session: AsyncSession, page: str
) -> None:
    user = await make_user(session)

    for path in ("/", "/posts", f"/users/{user.id}/posts"):
        response = await client.get(f"{path}?page={page}")
        assert is_html_422(response), (path, response.status_code)


@pytest.mark.parametrize("number", BEYOND_64_BITS)
async def test_ids_beyond_64_bits_are_422(
    client: httpx.AsyncClient, session: AsyncSession, number: str
) -> None:
    author = await make_user(session)
    headers = await login(client, author)
    body = {"title": "t", "content": "c"}

    for method, path in [
        ("GET", f"/api/posts/{number}"),
        ("PUT", f"/api/posts/{number}"),
        ("PATCH", f"/api/posts/{number}"),
        ("DELETE", f"/api/posts/{number}"),
        ("GET", f"/api/users/{number}"),
        ("GET", f"/api/users/{number}/posts"),
        ("PATCH", f"/api/users/{number}"),
        ("DELETE", f"/api/users/{number}"),
    ]:
        response = await client.request(method, path, json=body, headers=headers)
        assert is_json_422(response), (method, path, response.text)
    for path in (f"/posts/{number}", f"/users/{number}/posts"):
        assert is_html_422(await client.get(path)), path


async def test_ids_beyond_64_bits_in_forms_are_422_for_their_author(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    csrf = await browser_login(client, author)

    for number in BEYOND_64_BITS:
        assert is_html_422(await client.get(f"/posts/{number}/edit"))
        form = {"title": "t", "content": "c", "csrf_token": csrf}
        assert is_html_422(await client.post(f"/posts/{number}/edit", data=form))
        assert is_html_422(await client.post(f"/posts/{number}/delete", data=form))


async def test_json_bodies_that_are_not_utf8_are_422(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    [post] = await make_posts(session, author, 1)
    headers = {**await login(client, author), "Content-Type": "application/json"}
    bodies = [NOT_UTF8, b'{"title": "' + NOT_UTF8 + b'", "content": "x"}']

    for method, path in [
        ("POST", "/api/posts"),
        ("PUT", f"/api/posts/{post.id}"),
        ("PATCH", f"/api/posts/{post.id}"),
        ("POST", "/api/users"),
        ("PATCH", f"/api/users/{author.id}"),
        ("PATCH", "/api/users/me/password"),
        ("POST", "/api/users/forgot-password"),
        ("POST", "/api/users/reset-password"),
    ]:
        for body in bodies:
            response = await client.request(method, path, content=body, headers=headers)
            assert is_json_422(response), (method, path, response.text)
    assert await count(session, Post) == 1


async def test_malformed_multipart_is_422(client: httpx.AsyncClient, session: AsyncSession) -> None:
    headers = await login(client, await make_user(session))
    for content_type, body in [
        ("multipart/form-data", b"no boundary declared"),
        ("multipart/form-data; boundary=xx", b"--xx\r\nnot a part header\r\n--xx--\r\n"),
    ]:
        response = await client.patch(
            "/api/users/me/picture", content=body, headers={**headers, "Content-Type": content_type}
        )
        assert is_json_422(response), response.text


async def test_form_fields_that_are_not_utf8_never_fail(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """Undecodable bytes in a form become U+FFFD, as in any browser: a failed login, not a 500."""
    await make_user(session)
    form = b"username=" + NOT_UTF8 + b"&password=" + NOT_UTF8
    response = await client.post(
        "/api/users/token",
        content=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 401


API_BODIES_WITH_NUL: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/api/users", {"username": NUL, "email": "a@example.com", "password": PASSWORD}),
    ("POST", "/api/users", {"username": "a", "email": f"{NUL}@example.com", "password": PASSWORD}),
    ("POST", "/api/users", {"username": "a", "email": "a@example.com", "password": NUL * 2}),
    ("PATCH", "/api/users/{user}", {"username": NUL}),
    ("PATCH", "/api/users/{user}", {"email": f"{NUL}@example.com"}),
    ("PATCH", "/api/users/me/password", {"current_password": NUL, "new_password": PASSWORD}),
    ("PATCH", "/api/users/me/password", {"current_password": PASSWORD, "new_password": NUL * 2}),
    ("POST", "/api/users/forgot-password", {"email": f"{NUL}@example.com"}),
    ("POST", "/api/users/reset-password", {"token": NUL, "new_password": PASSWORD}),
    ("POST", "/api/users/reset-password", {"token": "abc", "new_password": NUL * 2}),
    ("POST", "/api/posts", {"title": NUL, "content": "c"}),
    ("POST", "/api/posts", {"title": "t", "content": NUL}),
    ("PUT", "/api/posts/{post}", {"title": NUL, "content": "c"}),
    ("PUT", "/api/posts/{post}", {"title": "t", "content": NUL}),
    ("PATCH", "/api/posts/{post}", {"title": NUL}),
    ("PATCH", "/api/posts/{post}", {"content": NUL}),
]


async def test_nul_in_any_api_string_field_is_422(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    [post] = await make_posts(session, author, 1)
    headers = await login(client, author)

    for method, template, body in API_BODIES_WITH_NUL:
        path = template.format(user=author.id, post=post.id)
        response = await client.request(method, path, json=body, headers=headers)
        assert is_json_422(response), (method, path, body, response.text)
    for form in ({"username": NUL, "password": PASSWORD}, {"username": "a", "password": NUL}):
        assert is_json_422(await client.post("/api/users/token", data=form))

    assert await count(session, User) == 1
    await session.refresh(post)
    assert (post.title, post.content) == ("Post 1 by " + author.username, "Body of post 1.")
    assert await login(client, author)  # the password did not change


async def test_nul_in_the_anonymous_forms_is_422(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    forms = [
        ("/register", {"username": NUL, "email": "n@example.com", "password": PASSWORD}),
        ("/register", {"username": "n", "email": f"{NUL}@example.com", "password": PASSWORD}),
        ("/register", {"username": "n", "email": "n@example.com", "password": NUL * 2}),
        ("/login", {"email": NUL, "password": PASSWORD}),
        ("/login", {"email": "n@example.com", "password": NUL}),
        ("/forgot-password", {"email": f"{NUL}@example.com"}),
        ("/reset-password", {"token": NUL, "new_password": PASSWORD}),
        ("/reset-password", {"token": "abc", "new_password": NUL * 2}),
    ]
    for path, fields in forms:
        token = await csrf_token(client, path)
        response = await client.post(path, data={**fields, "csrf_token": token})
        assert is_html_422(response), (path, fields, response.status_code)
    assert await count(session, User) == 0


async def test_nul_in_the_logged_in_forms_is_422(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    [post] = await make_posts(session, author, 1)
    csrf = await browser_login(client, author)
    forms = [
        ("/posts/new", {"title": NUL, "content": "c"}),
        ("/posts/new", {"title": "t", "content": NUL}),
        (f"/posts/{post.id}/edit", {"title": NUL, "content": "c"}),
        (f"/posts/{post.id}/edit", {"title": "t", "content": NUL}),
        ("/account/profile", {"username": NUL, "email": author.email}),
        ("/account/profile", {"username": "n", "email": f"{NUL}@example.com"}),
        ("/account/password", {"current_password": NUL, "new_password": PASSWORD}),
        ("/account/password", {"current_password": PASSWORD, "new_password": NUL * 2}),
    ]
    for path, fields in forms:
        response = await client.post(path, data={**fields, "csrf_token": csrf})
        assert is_html_422(response), (path, fields, response.status_code)

    assert await count(session, Post) == 1
    await session.refresh(author)
    assert author.username != "n"
