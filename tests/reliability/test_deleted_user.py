"""A user deleted while their posts are being read and edited: clean 404s, never a 500.

Readers and editors (API and forms) run concurrently with the author deleting their account.
Every request gets an answer that makes sense at the moment it is served: the post as it was,
or 404 once it is gone; the deleted user's token then gets 401 on every route that takes it.
"""

import asyncio
from collections import Counter

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from fastblog.posts.models import Post
from tests.asgi import asgi_transport
from tests.factories import login, make_posts, make_user
from tests.reliability.browser import browser_login

pytestmark = pytest.mark.anyio

ROUNDS = 4
POSTS = 6


def app_client(app: FastAPI) -> httpx.AsyncClient:
    """A client that sees a 500 as a response, as a browser would, instead of an exception."""
    transport = asgi_transport(app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def read_and_edit(
    app: FastAPI,
    author: User,
    posts: list[Post],
    headers: dict[str, str],
    csrf: str,
    browser: httpx.AsyncClient,
) -> Counter[str]:
    """Every kind of read and edit of the author's posts, many times, all at once: the first
    two thirds start with the deletion, the last third as soon as it is answered (while the
    first ones may still run), so some are served before the deletion and some after."""
    seen: Counter[str] = Counter()
    deleted = asyncio.Event()
    async with app_client(app) as client:

        async def call(
            label: str, method: str, url: str, *, late: bool = False, **kwargs: object
        ) -> None:
            if late:
                await deleted.wait()
            on = browser if label.startswith("form") else client
            response = await on.request(method, url, **kwargs)  # type: ignore[arg-type]
            seen[f"{label} {response.status_code}"] += 1
            if label == "delete":
                deleted.set()

        calls = []
        rounds = posts * 3
        for n, post in enumerate(rounds):
            body = {"title": f"edit {n}", "content": "edited"}
            late = n >= len(rounds) * 2 // 3
            calls += [
                call("api read", "GET", f"/api/posts/{post.id}", late=late),
                call("api list", "GET", f"/api/users/{author.id}/posts", late=late),
                call("page read", "GET", f"/posts/{post.id}", late=late),
                call("page list", "GET", f"/users/{author.id}/posts", late=late),
                call(
                    "api patch",
                    "PATCH",
                    f"/api/posts/{post.id}",
                    late=late,
                    json=body,
                    headers=headers,
                ),
                call(
                    "api put", "PUT", f"/api/posts/{post.id}", late=late, json=body, headers=headers
                ),
                call(
                    "form edit",
                    "POST",
                    f"/posts/{post.id}/edit",
                    late=late,
                    data={**body, "csrf_token": csrf},
                ),
            ]
        calls.insert(
            len(calls) // 3, call("delete", "DELETE", f"/api/users/{author.id}", headers=headers)
        )
        await asyncio.gather(*calls)
    return seen


async def test_deleting_a_user_under_readers_and_editors(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    seen: Counter[str] = Counter()
    for _ in range(ROUNDS):
        session.expunge_all()  # the last round's author is gone from the database
        author = await make_user(session)
        posts = await make_posts(session, author, POSTS)
        headers = await login(client, author)
        async with app_client(app) as browser:
            csrf = await browser_login(browser, author)
            seen += await read_and_edit(app, author, posts, headers, csrf, browser)

            # Afterwards: the posts are gone, the token names no one, the browser is logged out.
            for post in posts:
                assert (await client.get(f"/api/posts/{post.id}")).status_code == 404
                assert (await client.get(f"/posts/{post.id}")).status_code == 404
                patch = await client.patch(
                    f"/api/posts/{post.id}", json={"title": "x"}, headers=headers
                )
                assert patch.status_code == 401  # the token's account is gone: 401 first
            assert (await client.get(f"/api/users/{author.id}")).status_code == 404
            assert (await client.get(f"/users/{author.id}/posts")).status_code == 404
            assert (await client.get("/api/users/me", headers=headers)).status_code == 401
            new = await client.post(
                "/api/posts", json={"title": "t", "content": "c"}, headers=headers
            )
            assert new.status_code == 401
            form = await browser.post(
                "/posts/new", data={"title": "t", "content": "c", "csrf_token": csrf}
            )
            # The browser session ended with the account: its form is refused (403, the
            # session's CSRF token went with it) or sent to log in; nothing is published.
            assert form.status_code in (303, 403)
            assert form.status_code == 403 or form.headers["location"].startswith("/login")

    allowed = {
        "api read": {200, 404},
        "page read": {200, 404},
        "api list": {200, 404},
        "page list": {200, 404},
        # After the deletion the token names no one (401); a post deleted between the token's
        # check and the post's lock is a 404.
        "api patch": {200, 401, 404},
        "api put": {200, 401, 404},
        # Once the account is gone the browser session ends: its CSRF token goes with it.
        "form edit": {303, 403, 404},
        "delete": {204},
    }
    for label, times in seen.items():
        kind, status = label.rsplit(" ", 1)
        assert int(status) in allowed[kind], (label, times, seen)
    assert seen["delete 204"] == ROUNDS
    # Edits were served both before the deletion and after it.
    assert seen["api patch 200"] + seen["api put 200"] > 0, seen
    refused = ("api patch 401", "api put 401", "api patch 404", "api put 404")
    assert sum(seen[label] for label in refused) > 0, seen


async def test_a_deleted_users_token_never_names_a_later_account(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """Ids are never reused: SQLite would give a new account the id of the deleted one (the
    highest), and the deleted user's unexpired token would log in as the newcomer."""
    await make_user(session)
    doomed = await make_user(session)  # the highest id so far
    headers = await login(client, doomed)
    assert (await client.delete(f"/api/users/{doomed.id}", headers=headers)).status_code == 204

    body = {"username": "newcomer", "email": "newcomer@example.com", "password": "newcomer-pass"}
    newcomer = await client.post("/api/users", json=body)

    assert newcomer.status_code == 201
    assert newcomer.json()["id"] > doomed.id
    assert (await client.get("/api/users/me", headers=headers)).status_code == 401
    post = await client.post("/api/posts", json={"title": "t", "content": "c"}, headers=headers)
    assert post.status_code == 401
