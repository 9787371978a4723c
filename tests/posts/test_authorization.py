"""Who may write posts: anonymous → 401 (API) or the login page (forms), the author → done,
anyone else → 403, and the post stays as it was."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from fastblog.posts.markdown import slug_of
from tests.accounts import bearer, browser, browser_login, is_login_redirect, submit
from tests.factories import api_create_post, make_posts, make_user

pytestmark = pytest.mark.anyio

ORIGINAL = {"title": "Post 1 by owner", "content": "Body of post 1."}

API_WRITES: dict[str, tuple[str, dict[str, Any] | None, int]] = {
    "put": ("PUT", {"title": "Replaced", "content": "New body"}, 200),
    "patch": ("PATCH", {"title": "Patched"}, 200),
    "delete": ("DELETE", None, 204),
}


@pytest.fixture
async def owner(session: AsyncSession) -> User:
    return await make_user(session, username="owner")


@pytest.fixture
async def other(session: AsyncSession) -> User:
    return await make_user(session, username="other")


@pytest.fixture
async def post_id(session: AsyncSession, owner: User) -> int:
    (post,) = await make_posts(session, owner, 1)
    return post.id


async def current_post(client: httpx.AsyncClient, post_id: int) -> dict[str, Any] | None:
    response = await client.get(f"/api/posts/{post_id}")
    if response.status_code == 404:
        return None
    body: dict[str, Any] = response.json()
    return {"title": body["title"], "content": body["content"]}


@pytest.mark.parametrize("write", API_WRITES)
async def test_api_anonymous_writes_are_401(
    client: httpx.AsyncClient, post_id: int, write: str
) -> None:
    method, body, _ = API_WRITES[write]

    response = await client.request(method, f"/api/posts/{post_id}", json=body)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert await current_post(client, post_id) == ORIGINAL


@pytest.mark.parametrize("write", API_WRITES)
async def test_api_writes_by_another_user_are_403(
    app: FastAPI, client: httpx.AsyncClient, post_id: int, other: User, write: str
) -> None:
    method, body, _ = API_WRITES[write]

    response = await client.request(
        method, f"/api/posts/{post_id}", json=body, headers=bearer(app, other)
    )

    assert response.status_code == 403
    refused = "delete" if write == "delete" else "change"
    assert response.json()["detail"].startswith("Only the post's author or an editor")
    assert refused in response.json()["detail"]
    assert await current_post(client, post_id) == ORIGINAL


@pytest.mark.parametrize("write", API_WRITES)
async def test_api_writes_by_the_author_succeed(
    app: FastAPI, client: httpx.AsyncClient, post_id: int, owner: User, write: str
) -> None:
    method, body, expected = API_WRITES[write]

    response = await client.request(
        method, f"/api/posts/{post_id}", json=body, headers=bearer(app, owner)
    )

    assert response.status_code == expected, response.text
    after = await current_post(client, post_id)
    if write == "delete":
        assert after is None
    else:
        assert after == {**ORIGINAL, **(body or {})}


@pytest.mark.parametrize("write", API_WRITES)
async def test_api_writes_by_an_editor_reach_another_authors_draft(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, owner: User, write: str
) -> None:
    """An editor changes and deletes anyone's post, a draft too: a draft is hidden from
    everyone else (404), never from the site's editors."""
    created = await api_create_post(client, owner, **ORIGINAL, status="draft")
    assert created.status_code == 201, created.text
    draft_id = created.json()["id"]
    method, body, expected = API_WRITES[write]
    editor = await make_user(session, username="editor", role="editor")

    response = await client.request(
        method, f"/api/posts/{draft_id}", json=body, headers=bearer(app, editor)
    )

    assert response.status_code == expected, response.text
    after = await client.get(f"/api/posts/{draft_id}", headers=bearer(app, owner))
    if write == "delete":
        assert after.status_code == 404
    else:
        assert after.json()["title"] == (body or ORIGINAL)["title"]


async def test_api_create_needs_a_token(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/posts", json={"title": "t", "content": "c"})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert (await client.get("/api/posts")).json()["total"] == 0


async def test_api_create_ignores_a_user_id_in_the_body(
    app: FastAPI, client: httpx.AsyncClient, owner: User, other: User
) -> None:
    response = await client.post(
        "/api/posts",
        json={"title": "Mine", "content": "Really mine", "user_id": other.id},
        headers=bearer(app, owner),
    )

    assert response.status_code == 201, response.text
    assert response.json()["user_id"] == owner.id
    assert response.json()["author"]["username"] == "owner"
    assert (await client.get(f"/api/users/{other.id}/posts")).json()["total"] == 0


def form_writes(post_id: int) -> list[tuple[str, str, dict[str, str] | None]]:
    edit = {"title": "Edited", "content": "Edited body"}
    return [
        ("GET", f"/posts/{post_id}/edit", None),
        ("POST", f"/posts/{post_id}/edit", edit),
        ("GET", f"/posts/{post_id}/delete", None),
        ("POST", f"/posts/{post_id}/delete", {}),
    ]


async def send(
    client: httpx.AsyncClient, method: str, url: str, data: dict[str, str] | None
) -> httpx.Response:
    if method == "GET":
        return await client.get(url)
    return await submit(client, url, data)


async def test_forms_send_anonymous_visitors_to_the_login_page(
    client: httpx.AsyncClient, post_id: int
) -> None:
    for method, url, data in form_writes(post_id):
        response = await send(client, method, url, data)
        assert is_login_redirect(response, url), (method, url, response.headers)

    for method in ("GET", "POST"):
        data = {"title": "t", "content": "c"} if method == "POST" else None
        response = await send(client, method, "/posts/new", data)
        assert is_login_redirect(response, "/posts/new"), method

    login_page = await client.get("/login?next=/posts/new")
    assert "Please log in to see that page." in login_page.text
    assert 'name="next" value="/posts/new"' in login_page.text
    assert await current_post(client, post_id) == ORIGINAL
    assert (await client.get("/api/posts")).json()["total"] == 1


async def test_forms_refuse_another_user(
    app: FastAPI, client: httpx.AsyncClient, post_id: int, other: User
) -> None:
    await browser_login(client, other)

    for method, url, data in form_writes(post_id):
        response = await send(client, method, url, data)
        assert response.status_code == 403, (method, url)
        refused = "delete" if "/delete" in url else "change"
        assert f"Only the post&#39;s author or an editor can {refused} this post." in response.text
        assert 'href="/account"' in response.text  # still logged in, as the header shows

    assert await current_post(client, post_id) == ORIGINAL


async def test_forms_let_the_author_edit_and_delete(
    app: FastAPI, client: httpx.AsyncClient, post_id: int, owner: User
) -> None:
    await browser_login(client, owner)
    (edit_form, edit, confirm, delete) = form_writes(post_id)

    form = await send(client, *edit_form)
    assert form.status_code == 200
    assert 'value="Post 1 by owner"' in form.text

    edited = await send(client, *edit)
    assert edited.status_code == 303
    assert edited.headers["location"] == f"/posts/{post_id}/{slug_of(edit[2]['title'])}"
    assert await current_post(client, post_id) == edit[2]

    confirmation = await send(client, *confirm)
    assert confirmation.status_code == 200
    assert "Delete this post?" in confirmation.text

    deleted = await send(client, *delete)
    assert deleted.status_code == 303
    assert deleted.headers["location"] == "/"
    assert await current_post(client, post_id) is None


async def test_a_logged_in_user_writes_a_new_post_by_form(
    app: FastAPI, client: httpx.AsyncClient, owner: User
) -> None:
    await browser_login(client, owner)

    form = await client.get("/posts/new")
    created = await submit(client, "/posts/new", {"title": "Fresh", "content": "From a form"})

    assert form.status_code == 200
    assert created.status_code == 303
    page = await client.get(created.headers["location"])
    assert page.status_code == 200
    assert "Fresh" in page.text
    assert "Your post is published." in page.text
    listing = (await client.get(f"/api/users/{owner.id}/posts")).json()
    assert [post["title"] for post in listing["posts"]] == ["Fresh"]


async def test_edit_and_delete_controls_only_for_the_author(
    app: FastAPI, client: httpx.AsyncClient, post_id: int, owner: User, other: User
) -> None:
    controls = (f'href="/posts/{post_id}/edit"', f'href="/posts/{post_id}/delete"')
    pages = ("/", f"/posts/{post_id}/post-1-by-owner", f"/users/{owner.id}/posts")

    async with browser(app) as author, browser(app) as someone_else:
        await browser_login(author, owner)
        await browser_login(someone_else, other)
        for page in pages:
            for viewer, shown in ((author, True), (someone_else, False), (client, False)):
                html = (await viewer.get(page)).text
                assert "Post 1 by owner" in html
                for control in controls:
                    assert (control in html) is shown, (page, control, shown)
