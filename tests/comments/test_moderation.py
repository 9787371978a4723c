"""Comment approval as the site's `comments` mode sets it: who waits under each mode, what a
waiting comment looks like to its writer, to others and to editors, approving and rejecting
(the API and /admin/comments), the link rule, closed sites and posts."""

import logging

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from fastblog.accounts.roles import Role
from fastblog.comments.models import PENDING
from fastblog.posts.models import Post
from tests.accounts import browser, browser_login, read_form, submit
from tests.comments.helpers import api_comment, make_comments, stored_and_recounted
from tests.comments.moderation import SetMode, make_role
from tests.factories import login, make_posts, make_user
from tests.html import read_page

pytestmark = pytest.mark.anyio

ROLES = list(Role)
WAITS = {
    # mode: the roles whose first comment waits
    "open": set(),
    "approve_first": {Role.READER, Role.CONTRIBUTOR},
    "approve_all": {Role.READER, Role.CONTRIBUTOR},
}
THREE_LINKS = "See https://a.example, https://b.example and [this](https://c.example)."
TWO_LINKS = "See https://a.example and https://b.example."


@pytest.fixture
async def post(session: AsyncSession) -> Post:
    (post,) = await make_posts(session, await make_user(session, username="writer"), 1)
    return post


def page_url(post: Post) -> str:
    return f"/posts/{post.id}/{post.slug}"


async def listed(client: httpx.AsyncClient, post: Post, viewer: User | None) -> list[str]:
    headers = await login(client, viewer) if viewer else {}
    response = await client.get(f"/api/posts/{post.id}/comments", headers=headers)
    assert response.status_code == 200, response.text
    return [comment["body"] for comment in response.json()["comments"]]


async def count_on(client: httpx.AsyncClient, post: Post) -> int:
    count: int = (await client.get(f"/api/posts/{post.id}")).json()["comments"]
    return count


@pytest.mark.parametrize("mode", sorted(WAITS))
async def test_who_waits_under_each_mode(
    client: httpx.AsyncClient, session: AsyncSession, post: Post, comments_mode: SetMode, mode: str
) -> None:
    comments_mode(mode)
    for role in ROLES:
        user = await make_role(session, role)

        first = await api_comment(client, user, post.id, f"First by {role}")
        assert first.status_code == 201, (role, first.text)
        expected = "pending" if role in WAITS[mode] else "approved"
        assert first.json()["status"] == expected, (mode, role)

        if first.json()["status"] == "pending":
            # Once one of theirs is approved, approve_first lets the next through at once;
            # approve_all never does.
            editor = await make_role(session, Role.EDITOR, username=f"ed-{role}")
            approved = await client.post(
                f"/api/comments/{first.json()['id']}/approve", headers=await login(client, editor)
            )
            assert approved.status_code == 200, approved.text
            second = await api_comment(client, user, post.id, f"Second by {role}")
            then = "pending" if mode == "approve_all" else "approved"
            assert second.json()["status"] == then, (mode, role)


async def test_a_closed_site_takes_no_comment_from_anyone(
    client: httpx.AsyncClient, session: AsyncSession, post: Post, comments_mode: SetMode
) -> None:
    comments_mode("closed")
    for role in ROLES:
        user = await make_role(session, role)

        response = await api_comment(client, user, post.id)

        assert response.status_code == 403, role
        assert response.json() == {"detail": "Comments are closed on this site."}
    # Closed is the first answer, before whether the post exists.
    unknown_post = await api_comment(client, user, 999_999)
    assert unknown_post.json() == {"detail": "Comments are closed on this site."}
    page = read_page(await client.get(page_url(post)))
    assert "Comments are closed on this site." in page.text
    assert not [field for field in page.focusable if field.get("name") == "body"]
    assert await count_on(client, post) == 0


async def test_a_waiting_comment_shows_to_its_writer_and_editors_only(
    app: object, client: httpx.AsyncClient, session: AsyncSession, post: Post
) -> None:
    reader = await make_role(session, Role.READER)
    other = await make_role(session, Role.READER, username="other")
    editor = await make_role(session, Role.EDITOR)
    await make_comments(session, post, other, 1)  # an approved one, shown to all
    created = await api_comment(client, reader, post.id, "Waiting *here*")
    assert created.json()["status"] == "pending"

    assert await listed(client, post, None) == ["Comment 1"]
    assert await listed(client, post, other) == ["Comment 1"]
    assert await listed(client, post, reader) == ["Comment 1", "Waiting *here*"]
    assert await listed(client, post, editor) == ["Comment 1", "Waiting *here*"]
    assert await count_on(client, post) == 1  # counted nowhere
    listing = (await client.get("/api/posts")).json()["posts"]
    assert [item["comments"] for item in listing] == [1]

    anonymous = read_page(await client.get(page_url(post)))
    assert "Waiting here" not in anonymous.text
    assert "1 comment" in anonymous.text
    for viewer, sees in ((reader, True), (other, False), (editor, True)):
        async with browser(app) as tab:  # type: ignore[arg-type]
            await browser_login(tab, viewer)
            page = read_page(await tab.get(page_url(post)))
        assert ("Waiting here" in page.text) is sees, viewer.username
        assert ("Awaiting approval" in page.text) is sees, viewer.username


async def test_approving_shows_and_counts_the_comment(
    client: httpx.AsyncClient, session: AsyncSession, post: Post
) -> None:
    reader = await make_role(session, Role.READER)
    editor = await make_role(session, Role.EDITOR)
    comment = (await api_comment(client, reader, post.id, "Let me in")).json()

    approved = await client.post(
        f"/api/comments/{comment['id']}/approve", headers=await login(client, editor)
    )

    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    assert approved.json()["post_id"] == post.id
    assert approved.json()["body"] == "Let me in"
    assert await listed(client, post, None) == ["Let me in"]
    assert await count_on(client, post) == 1
    again = await client.post(
        f"/api/comments/{comment['id']}/approve", headers=await login(client, editor)
    )
    assert again.status_code == 200
    assert await count_on(client, post) == 1  # approving twice counts once


async def test_deleting_a_waiting_comment_rejects_it(
    client: httpx.AsyncClient,
    session: AsyncSession,
    post: Post,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="fastblog.moderation")
    reader = await make_role(session, Role.READER)
    editor = await make_role(session, Role.EDITOR)
    waiting = (await api_comment(client, reader, post.id, "Buy now")).json()
    shown = (await make_comments(session, post, editor, 1))[0]

    rejected = await client.delete(
        f"/api/comments/{waiting['id']}", headers=await login(client, editor)
    )
    removed = await client.delete(f"/api/comments/{shown.id}", headers=await login(client, editor))

    assert rejected.status_code == removed.status_code == 204
    # The moderation log names the reader's comment; the editor's own is nobody's business.
    assert [r.getMessage() for r in caplog.records if r.name == "fastblog.moderation"] == [
        f"Moderator editor (user {editor.id}) deleted comment {waiting['id']}"
        f" by reader (user {reader.id})"
    ]
    assert await listed(client, post, reader) == []
    assert await count_on(client, post) == 0
    stored, recounted = await stored_and_recounted(session)
    assert stored == recounted == {post.id: 0}


async def test_a_deleted_editors_old_token_moderates_nothing(
    client: httpx.AsyncClient, session: AsyncSession, post: Post
) -> None:
    writer = await make_role(session, Role.READER, username="writer-r")
    editor = await make_role(session, Role.EDITOR)
    waiting = (await api_comment(client, writer, post.id, "Hold on")).json()
    headers = await login(client, editor)
    assert (await client.delete(f"/api/users/{editor.id}", headers=headers)).status_code == 204

    approve = await client.post(f"/api/comments/{waiting['id']}/approve", headers=headers)
    reject = await client.delete(f"/api/comments/{waiting['id']}", headers=headers)

    for response in (approve, reject):
        assert response.status_code == 401, response.text
        assert response.json()["detail"].startswith("Your account no longer exists")
    assert await listed(client, post, writer) == ["Hold on"]
    assert await listed(client, post, None) == []


@pytest.mark.parametrize("role", [Role.READER, Role.CONTRIBUTOR, Role.AUTHOR])
async def test_only_editors_and_up_moderate(
    client: httpx.AsyncClient, session: AsyncSession, post: Post, role: Role
) -> None:
    writer = await make_role(session, Role.READER, username="writer-r")
    user = await make_role(session, role)
    waiting = (await api_comment(client, writer, post.id, "Hold on")).json()
    headers = await login(client, user)

    approve = await client.post(f"/api/comments/{waiting['id']}/approve", headers=headers)
    reject = await client.delete(f"/api/comments/{waiting['id']}", headers=headers)
    queue = await client.get("/api/comments?status=pending", headers=headers)

    for response in (approve, reject, queue):
        assert response.status_code == 403, response.text
    for response in (approve, reject):
        assert response.json()["detail"] == (
            "Only an editor, an admin or the owner can approve or reject comments."
        )
    assert queue.json()["detail"] == (
        "Only an editor, an admin or the owner can see waiting comments."
    )
    assert await listed(client, post, None) == []
    assert await listed(client, post, writer) == ["Hold on"]


async def test_moderation_needs_a_token_and_a_comment_that_exists(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    editor = await make_role(session, Role.ADMIN)

    assert (await client.post("/api/comments/1/approve")).status_code == 401
    assert (await client.get("/api/comments?status=pending")).status_code == 401
    missing = await client.post("/api/comments/999/approve", headers=await login(client, editor))
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Comment not found"}
    gone = await client.delete("/api/comments/999", headers=await login(client, editor))
    assert gone.status_code == 404
    assert gone.json() == {"detail": "Comment not found"}
    unknown_status = await client.get(
        "/api/comments?status=spam", headers=await login(client, editor)
    )
    assert unknown_status.status_code == 422
    assert unknown_status.json()["detail"][0]["loc"] == ["query", "status"]


@pytest.mark.parametrize("role", [Role.EDITOR, Role.ADMIN, Role.OWNER])
async def test_the_queue_lists_waiting_comments_with_their_post(
    client: httpx.AsyncClient, session: AsyncSession, role: Role
) -> None:
    author = await make_user(session)
    first, second = await make_posts(session, author, 2)
    reader = await make_role(session, Role.READER)
    moderator = await make_role(session, role)
    await make_comments(session, first, reader, 2, status=PENDING)
    await make_comments(session, second, reader, 1, status=PENDING)
    await make_comments(session, second, author, 1)  # approved: not in the queue
    headers = await login(client, moderator)

    page = (await client.get("/api/comments?status=pending&limit=2", headers=headers)).json()
    rest = await client.get(
        "/api/comments",
        params={"status": "pending", "cursor": page["next_cursor"]},
        headers=headers,
    )

    # Oldest first: first's two are 1 s and 2 s after START, second's 1 s (ties by id).
    comments = page["comments"] + rest.json()["comments"]
    assert [(c["post_id"], c["body"]) for c in comments] == [
        (first.id, "Comment 1"),
        (second.id, "Comment 1"),
        (first.id, "Comment 2"),
    ]
    assert {c["status"] for c in comments} == {"pending"}
    assert rest.json()["next_cursor"] is None


@pytest.mark.parametrize("mode", ["open", "approve_first"])
async def test_more_than_two_links_from_a_new_reader_wait(
    client: httpx.AsyncClient, session: AsyncSession, post: Post, comments_mode: SetMode, mode: str
) -> None:
    comments_mode(mode)
    reader = await make_role(session, Role.READER)
    author = await make_role(session, Role.AUTHOR)
    trusted = await make_role(session, Role.READER, username="trusted")
    await make_comments(session, post, trusted, 1)  # one approved comment already

    many = await api_comment(client, reader, post.id, THREE_LINKS)
    by_author = await api_comment(client, author, post.id, THREE_LINKS)
    by_trusted = await api_comment(client, trusted, post.id, THREE_LINKS)

    assert many.json()["status"] == "pending"
    assert by_author.json()["status"] == by_trusted.json()["status"] == "approved"
    if mode == "open":
        two = await api_comment(client, reader, post.id, TWO_LINKS)
        assert two.json()["status"] == "approved"


async def test_a_post_can_close_its_comments(
    client: httpx.AsyncClient, session: AsyncSession, comments_mode: SetMode
) -> None:
    comments_mode("open")
    author = await make_role(session, Role.AUTHOR)
    reader = await make_role(session, Role.READER)
    created = await client.post(
        "/api/posts",
        json={"title": "Quiet", "content": "No comments.", "comments_enabled": False},
        headers=await login(client, author),
    )
    assert created.status_code == 201
    assert created.json()["comments_enabled"] is False
    post_id = created.json()["id"]

    refused = await api_comment(client, reader, post_id)
    by_author = await api_comment(client, author, post_id)
    page = read_page(await client.get(f"/posts/{post_id}/quiet"))

    assert refused.status_code == by_author.status_code == 403
    assert refused.json() == {"detail": "Comments are closed on this post."}
    assert "Comments are closed on this post." in page.text
    reopened = await client.patch(
        f"/api/posts/{post_id}",
        json={"comments_enabled": True},
        headers=await login(client, author),
    )
    assert reopened.json()["comments_enabled"] is True
    assert (await api_comment(client, reader, post_id)).status_code == 201
    null = await client.patch(
        f"/api/posts/{post_id}",
        json={"comments_enabled": None},
        headers=await login(client, author),
    )
    assert null.status_code == 422
    assert null.json()["detail"][0]["loc"] == ["body", "comments_enabled"]


async def test_the_post_form_has_an_allow_comments_checkbox(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_role(session, Role.AUTHOR)
    await browser_login(client, author)
    new_form = read_form((await client.get("/posts/new")).text)
    assert new_form.values["comments_enabled"] == "on"
    assert (
        'name="comments_enabled" type="checkbox" value="on" checked'
        in (await client.get("/posts/new")).text
    )
    fields = {"title": "Closed", "content": "Words.", "tags": "", "published_at": ""}

    # An unchecked checkbox sends nothing.
    created = await submit(client, "/posts/new", {**fields, "action": "publish"})

    assert created.status_code == 303
    post_id = int(created.headers["location"].split("/")[2])
    assert (await client.get(f"/api/posts/{post_id}")).json()["comments_enabled"] is False
    edit_page = (await client.get(f"/posts/{post_id}/edit")).text
    assert 'type="checkbox" value="on">' in edit_page  # shown unchecked
    reopened = await submit(
        client,
        f"/posts/{post_id}/edit",
        {**fields, "comments_enabled": "on", "action": "publish"},
    )
    assert reopened.status_code == 303
    assert (await client.get(f"/api/posts/{post_id}")).json()["comments_enabled"] is True
