"""The notifications page, the header's unread count and the account's mail setting, as a
browser sees them."""

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from fastblog.posts.models import Post
from tests.accounts import bearer, browser_login, is_login_redirect, read_form, submit
from tests.factories import StatementCounter, make_user
from tests.html import read_page

pytestmark = pytest.mark.anyio


async def stir(
    app: FastAPI, client: httpx.AsyncClient, author: User, reader: User, post: Post
) -> None:
    """The reader comments on the author's post (with markup that must stay text), follows
    the author and likes the post."""
    body = {"body": "Nice <script>alert(1)</script> post"}
    created = await client.post(
        f"/api/posts/{post.id}/comments", json=body, headers=bearer(app, reader)
    )
    assert created.status_code == 201
    await client.post(f"/api/users/{author.id}/follow", headers=bearer(app, reader))
    await client.post(f"/api/posts/{post.id}/like", headers=bearer(app, reader))


async def test_the_header_shows_the_unread_count_at_no_extra_statement(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    author: User,
    reader: User,
    post: Post,
    count_statements: StatementCounter,
) -> None:
    await stir(app, client, author, reader, post)
    await browser_login(client, reader)
    with count_statements() as statements:
        quiet = await client.get("/")
    without = list(statements)
    client.cookies.clear()
    await browser_login(client, author)

    with count_statements() as statements:
        busy = await client.get("/")

    assert read_page(quiet).link("Notifications").path == "/notifications"
    assert read_page(busy).link("Notifications 3 unread").path == "/notifications"
    assert len(statements) == len(without), (list(statements), without)


async def test_the_page_lists_what_happened_with_links_and_the_comment_as_text(
    app: FastAPI, client: httpx.AsyncClient, author: User, reader: User, post: Post
) -> None:
    await stir(app, client, author, reader, post)
    await browser_login(client, author)

    response = await client.get("/notifications")

    assert response.status_code == 200
    page = read_page(response)
    assert "reader liked" in page.text
    assert "reader followed you" in page.text
    assert "reader commented on" in page.text
    # The comment's source shows as text: had it been markup, the parser would not see it.
    assert "Nice <script>alert(1)</script> post" in page.text
    links = [link.path for link in page.links if link.text == post.title]
    assert links == [f"/posts/{post.id}/{post.slug}"] * 2
    assert page.text.count("New reader") == 3  # the unread mark, before each


async def test_mark_all_as_read_clears_the_count(
    app: FastAPI, client: httpx.AsyncClient, author: User, reader: User, post: Post
) -> None:
    await stir(app, client, author, reader, post)
    await browser_login(client, author)
    form = read_form((await client.get("/notifications")).text)

    done = await submit(client, "/notifications/read", {"up_to": form.values["up_to"]})

    assert done.status_code == 303
    assert done.headers["location"] == "/notifications"
    page = read_page(await client.get("/notifications"))
    assert page.has_link("Notifications")
    assert "New reader" not in page.text
    assert "Mark all as read" not in page.text
    state = await client.get("/api/notifications", headers=bearer(app, author))
    assert state.json()["unread"] == 0


async def test_marking_read_up_to_the_page_keeps_a_later_one_unread(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    author: User,
    reader: User,
    post: Post,
) -> None:
    await stir(app, client, author, reader, post)
    await browser_login(client, author)
    form = read_form((await client.get("/notifications")).text)
    late = await make_user(session, username="late")
    await client.post(f"/api/users/{author.id}/follow", headers=bearer(app, late))

    await submit(client, "/notifications/read", {"up_to": form.values["up_to"]})

    page = read_page(await client.get("/notifications"))
    assert page.link("Notifications 1 unread").path == "/notifications"


async def test_the_page_is_for_logged_in_users(client: httpx.AsyncClient) -> None:
    response = await client.get("/notifications")

    assert is_login_redirect(response, "/notifications")


async def test_the_account_page_turns_the_mails_on_and_off(
    client: httpx.AsyncClient, session: AsyncSession, author: User
) -> None:
    await browser_login(client, author)
    mailed = select(User.notify_by_mail).where(User.id == author.id)
    assert "notify_by_mail" not in read_form((await client.get("/account")).text).checked

    on = await submit(client, "/account/notifications", {"notify_by_mail": "on"})
    assert on.status_code == 303
    assert "notify_by_mail" in read_form((await client.get("/account")).text).checked
    assert await session.scalar(mailed) is True

    await submit(client, "/account/notifications", {})
    assert "notify_by_mail" not in read_form((await client.get("/account")).text).checked
    assert await session.scalar(mailed) is False
