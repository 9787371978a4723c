"""A user deleted while their posts are being read and edited: clean 404s, never a 500.

Readers and editors (API and forms) run concurrently with the author deleting their account.
Every request gets an answer that makes sense at the moment it is served: the post as it was,
or 404 once it is gone; the deleted user's token then gets 401 wherever it needs the user.
"""

import asyncio
from collections import Counter
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from fastblog.posts.models import Post
from tests.asgi import asgi_transport
from tests.factories import login, make_posts, make_user
from tests.html import Page, read_page
from tests.reliability.browser import browser_login

pytestmark = pytest.mark.anyio

ROUNDS = 4
POSTS = 6


def app_client(app: FastAPI) -> httpx.AsyncClient:
    """A client that sees a 500 as a response, as a browser would, instead of an exception."""
    transport = asgi_transport(app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


Versions = dict[int, set[tuple[str, str]]]  # post id -> each (title, content) it may have had


def a_version(post: dict[str, Any], author: User, versions: Versions) -> bool:
    """A post from the API is the author's, with a text it had at some moment."""
    return (
        post["user_id"] == author.id
        and post["author"]["username"] == author.username
        and (post["title"], post["content"]) in versions[post["id"]]
    )


def is_post_path(path: str, post_id: int) -> bool:
    """The post's address: /posts/{id}/{slug} (its slug follows the title it had then)."""
    return path.startswith(f"/posts/{post_id}/") and path.count("/") == 3


def on_page(page: Page, post_id: int, versions: Versions, *, its_own: bool = False) -> bool:
    """A page shows the post, with the title and text it had at one moment: on a list, a link
    to it with that title; on its own page, that title as the page's."""

    def titled(title: str) -> bool:
        if its_own:
            return page.title == f"{title} · fastblog"
        return any(link.text == title and is_post_path(link.path, post_id) for link in page.links)

    return any(content in page.text and titled(title) for title, content in versions[post_id])


def as_it_was(
    label: str, response: httpx.Response, post_id: int, author: User, versions: Versions
) -> bool:
    """Whether a successful answer shows what was there when it was served: a read, the post
    (or all the author's posts) as it was; an edit, one of the edits sent."""
    if label in ("api patch", "api put"):
        body = response.json()
        return body["id"] == post_id and a_version(body, author, versions)
    if label == "form edit":  # to the edited post, or to log in once the account is gone
        location = response.headers["location"]
        return is_post_path(location, post_id) or location.startswith("/login")
    if label == "api read":
        body = response.json()
        return body["id"] == post_id and a_version(body, author, versions)
    if label == "api list":
        posts = response.json()["posts"]
        everyone = {post["id"] for post in posts} == set(versions)
        return everyone and all(a_version(post, author, versions) for post in posts)
    page = read_page(response)
    if label == "page read":
        return author.username in page.text and on_page(page, post_id, versions, its_own=True)
    shown = list(versions)
    return author.username in page.text and all(on_page(page, i, versions) for i in shown)


def torn_list(label: str, response: httpx.Response) -> bool:
    """A list of the author's posts with none in it: the author was found, then the posts
    were gone. Never true at any one moment (an account goes with its posts, at once)."""
    if label == "api list":
        return response.json()["total"] == 0
    if label == "page list":
        return not any(link.path.startswith("/posts/") for link in read_page(response).links)
    return False


async def read_and_edit(
    app: FastAPI,
    author: User,
    posts: list[Post],
    headers: dict[str, str],
    csrf: str,
    browser: httpx.AsyncClient,
    torn: list[str],
) -> Counter[str]:
    """Every kind of read and edit of the author's posts, many times, all at once; each
    answer that is not a refusal shows the post as it was, or the edit made."""
    seen: Counter[str] = Counter()
    versions: Versions = {post.id: {(post.title, post.content)} for post in posts}
    async with app_client(app) as client:

        async def call(label: str, post_id: int, method: str, url: str, **kwargs: Any) -> None:
            on = browser if label.startswith("form") else client
            response = await on.request(method, url, **kwargs)
            seen[f"{label} {response.status_code}"] += 1
            if response.status_code in (200, 303):
                if torn_list(label, response):
                    torn.append(label)
                else:
                    assert as_it_was(label, response, post_id, author, versions), (label, url)

        calls = []
        for n, post in enumerate(posts * 3):
            body = {"title": f"edit {n}", "content": f"edited, {n}th time"}
            versions[post.id].add((body["title"], body["content"]))
            api, page = f"/api/posts/{post.id}", f"/posts/{post.id}"
            calls += [
                call("api read", post.id, "GET", api),
                call("api list", post.id, "GET", f"/api/users/{author.id}/posts?content=true"),
                call("page read", post.id, "GET", page),
                call("page list", post.id, "GET", f"/users/{author.id}/posts"),
                call("api patch", post.id, "PATCH", api, json=body, headers=headers),
                call("api put", post.id, "PUT", api, json=body, headers=headers),
                call(
                    "form edit", post.id, "POST", f"{page}/edit", data={**body, "csrf_token": csrf}
                ),
            ]
        # A third of the calls are served first; the deletion then races the rest. (All at
        # once, the deletion would win every race against edits, which read the post and
        # render its Markdown before they take the write lock.)
        first = len(calls) // 3
        await asyncio.gather(*calls[:first])
        deletion = call("delete", 0, "DELETE", f"/api/users/{author.id}", headers=headers)
        await asyncio.gather(deletion, *calls[first:])
    return seen


async def test_deleting_a_user_under_readers_and_editors(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    seen: Counter[str] = Counter()
    torn: list[str] = []
    for _ in range(ROUNDS):
        session.expunge_all()  # the last round's author is gone from the database
        author = await make_user(session)
        posts = await make_posts(session, author, POSTS)
        headers = await login(client, author)
        async with app_client(app) as browser:
            csrf = await browser_login(browser, author)
            seen += await read_and_edit(app, author, posts, headers, csrf, browser, torn)

            # Afterwards: the posts are gone, the token names no one, the browser is logged out.
            for post in posts:
                assert (await client.get(f"/api/posts/{post.id}")).status_code == 404
                assert (await client.get(f"/posts/{post.id}")).status_code == 404
                patch = await client.patch(
                    f"/api/posts/{post.id}", json={"title": "x"}, headers=headers
                )
                assert patch.status_code == 401  # the token went with its account
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
        # /posts/{id} moves to /posts/{id}/{slug} while the post exists.
        "page read": {301, 404},
        "api list": {200, 404},
        "page list": {200, 404},
        # Once the account is gone its token is refused (401); before, a post being deleted
        # can be missing (404).
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
    # Both list routes find the user on a session, then read the posts on the compiled road
    # in a later snapshot: a deletion committed in between must give a 404, never "no posts".
    assert not torn, Counter(torn)


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
