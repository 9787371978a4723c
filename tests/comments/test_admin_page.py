"""/admin/comments: the moderation queue in the browser (editors and up), its Approve and
Delete forms (CSRF), and the honeypot of the comment form."""

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.roles import Role
from fastblog.comments.models import PENDING, Comment
from fastblog.posts.models import Post
from fastblog.web.honeypot import HONEYPOT
from tests.accounts import browser, browser_login, is_login_redirect, read_form, submit
from tests.comments.helpers import make_comments, parse
from tests.comments.moderation import make_role
from tests.factories import make_posts, make_user
from tests.html import read_page

pytestmark = pytest.mark.anyio


@pytest.fixture
async def post(session: AsyncSession) -> Post:
    (post,) = await make_posts(session, await make_user(session, username="writer"), 1)
    return post


async def test_an_editor_sees_the_queue_and_approves_from_it(
    client: httpx.AsyncClient, session: AsyncSession, post: Post
) -> None:
    reader = await make_role(session, Role.READER)
    editor = await make_role(session, Role.EDITOR)
    (waiting,) = await make_comments(session, post, reader, 1, status=PENDING)
    await browser_login(client, editor)

    page = read_page(await client.get("/admin/comments"))

    assert "1 waiting" in page.text
    assert "Comment 1" in page.text
    assert page.link(post.title).href == f"/posts/{post.id}/{post.slug}"
    assert "Approve the comment by reader" in page.text
    assert "Delete the comment by reader" in page.text

    approved = await submit(client, f"/admin/comments/{waiting.id}/approve")

    assert approved.status_code == 303
    assert approved.headers["location"] == "/admin/comments"
    after = read_page(await client.get("/admin/comments"))
    assert "The comment is approved" in after.text
    assert "No comment is waiting for approval." in after.text
    public = (await client.get(f"/api/posts/{post.id}/comments")).json()["comments"]
    assert [c["body"] for c in public] == ["Comment 1"]
    assert (await client.get(f"/api/posts/{post.id}")).json()["comments"] == 1


async def test_deleting_from_the_queue_rejects(
    client: httpx.AsyncClient, session: AsyncSession, post: Post
) -> None:
    reader = await make_role(session, Role.READER)
    owner = await make_role(session, Role.OWNER)
    (waiting,) = await make_comments(session, post, reader, 1, status=PENDING)
    await browser_login(client, owner)

    rejected = await submit(client, f"/admin/comments/{waiting.id}/delete")

    assert rejected.status_code == 303
    assert "The comment is deleted." in read_page(await client.get("/admin/comments")).text
    await session.commit()
    assert await session.scalar(select(func.count()).select_from(Comment)) == 0


async def test_the_queue_is_for_editors_and_up(
    client: httpx.AsyncClient, session: AsyncSession, post: Post
) -> None:
    reader = await make_role(session, Role.READER)
    author = await make_role(session, Role.AUTHOR)
    (waiting,) = await make_comments(session, post, reader, 1, status=PENDING)

    anonymous = await client.get("/admin/comments")
    assert is_login_redirect(anonymous, "/admin/comments")
    await browser_login(client, author)
    refused = await client.get("/admin/comments")
    approve = await submit(client, f"/admin/comments/{waiting.id}/approve")
    no_csrf = await client.post(f"/admin/comments/{waiting.id}/approve")

    assert refused.status_code == approve.status_code == no_csrf.status_code == 403
    assert "Only an editor, an admin or the owner" in read_page(refused).text
    assert "Comment 1" not in read_page(refused).text
    assert (await client.get(f"/api/posts/{post.id}")).json()["comments"] == 0


async def test_the_comment_form_says_when_a_comment_waits(
    client: httpx.AsyncClient, session: AsyncSession, post: Post
) -> None:
    reader = await make_role(session, Role.READER)
    await browser_login(client, reader)

    response = await submit(client, f"/posts/{post.id}/comments", {"body": "Hello there"})

    assert response.status_code == 303
    page = read_page(await client.get(response.headers["location"]))
    assert "Your comment is waiting for approval" in page.text
    assert "Awaiting approval" in page.text
    assert "Hello there" in page.text
    assert "0 comments" in page.text


async def test_the_honeypot_refuses_a_comment_and_keeps_its_text(
    client: httpx.AsyncClient, session: AsyncSession, post: Post
) -> None:
    reader = await make_role(session, Role.AUTHOR)
    await browser_login(client, reader)
    page = await client.get(f"/posts/{post.id}/{post.slug}")
    trap = [f for f in read_page(page).focusable if f.get("name") == HONEYPOT]
    # Out of the tab order and autocomplete off, and labelled for screen readers.
    assert trap == [
        {
            "tag": "input",
            "id": HONEYPOT,
            "name": HONEYPOT,
            "type": "text",
            "value": "",
            "tabindex": "-1",
            "autocomplete": "off",
        }
    ]
    assert f'<label for="{HONEYPOT}">Leave this field empty</label>' in page.text

    caught = await submit(
        client, f"/posts/{post.id}/comments", {"body": "Cheap pills", HONEYPOT: "x"}
    )

    assert caught.status_code == 422
    form = read_form(caught.text)
    assert "spam robots" in form.errors["body"]
    assert "Cheap pills" in caught.text
    await session.commit()
    assert await session.scalar(select(func.count()).select_from(Comment)) == 0
    empty = await submit(client, f"/posts/{post.id}/comments", {"body": "Fine", HONEYPOT: ""})
    assert empty.status_code == 303


async def test_the_honeypot_refuses_a_sign_up(client: httpx.AsyncClient, app: FastAPI) -> None:
    form = read_page(await client.get("/register"))
    assert [f["name"] for f in form.focusable if f.get("name") == HONEYPOT] == [HONEYPOT]
    values = {"username": "bot", "email": "bot@example.com", "password": "a long passphrase"}

    caught = await submit(client, "/register", {**values, HONEYPOT: "http://spam.example"})

    assert caught.status_code == 422
    assert "spam robots" in read_form(caught.text).errors["form"]
    assert read_form(caught.text).values["username"] == "bot"
    created = await client.get("/api/users/1")
    assert created.status_code == 404
    signed_up = await submit(client, "/register", values)
    assert signed_up.status_code == 303


async def test_a_waiting_comment_is_sanitized_in_the_queue(
    client: httpx.AsyncClient, session: AsyncSession, post: Post
) -> None:
    reader = await make_role(session, Role.READER)
    editor = await make_role(session, Role.EDITOR)
    hostile = "<script>alert(1)</script> [x](javascript:alert(2)) <img src=x onerror=alert(3)>"
    await browser_login(client, reader)
    assert (
        await submit(client, f"/posts/{post.id}/comments", {"body": hostile})
    ).status_code == 303
    await browser_login(client, editor)

    page = await client.get("/admin/comments")

    body = page.text.split('class="comment-body">', 1)[1].split("</div>", 1)[0]
    markup = parse(body)
    assert set(markup.tags) <= {"p", "a", "em", "strong", "code", "br"}
    assert not [href for href in markup.hrefs() if href.startswith("javascript")]
    assert "<script>alert(1)</script>" in markup.text


async def test_an_editor_approves_on_the_post_page(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, post: Post
) -> None:
    reader = await make_role(session, Role.READER)
    editor = await make_role(session, Role.EDITOR)
    (waiting,) = await make_comments(session, post, reader, 1, status=PENDING)
    url = f"/posts/{post.id}/{post.slug}"
    async with browser(app) as other:
        await browser_login(other, reader)
        assert "Approve the comment" not in read_page(await other.get(url)).text
    await browser_login(client, editor)
    page = await client.get(url)
    assert "Approve the comment by reader" in read_page(page).text
    next_url = read_form(page.text).values["next"]

    approved = await submit(
        client, f"/admin/comments/{waiting.id}/approve", {"next": next_url or ""}
    )

    assert approved.status_code == 303
    assert approved.headers["location"] == f"{url}#comment-{waiting.id}"
    assert "1 comment" in read_page(await client.get(url)).text
