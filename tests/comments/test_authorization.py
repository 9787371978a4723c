"""Who may do what with comments, and moderators' deletions of posts: every new route and the
post deletions, for anonymous, another user, the comment's author, the post's author and a
moderator; through the API and through the forms."""

import logging
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from fastblog.comments.models import Comment
from fastblog.posts.models import Post
from tests.accounts import bearer, browser_login, is_login_redirect, read_form, submit
from tests.comments.helpers import make_comments
from tests.factories import make_posts, make_user
from tests.html import read_page

pytestmark = pytest.mark.anyio

ACTORS = ["anonymous", "other", "commenter", "post_author", "moderator"]


@dataclass
class Scene:
    post: Post
    comment: Comment
    users: dict[str, User]


@pytest.fixture
async def scene(session: AsyncSession) -> Scene:
    users = {
        "post_author": await make_user(session, username="post_author"),
        "commenter": await make_user(session, username="commenter"),
        "other": await make_user(session, username="other"),
        "moderator": await make_user(session, username="moderator", is_moderator=True),
    }
    (post,) = await make_posts(session, users["post_author"], 1)
    (comment,) = await make_comments(session, post, users["commenter"], 1)
    return Scene(post=post, comment=comment, users=users)


def headers_of(app: FastAPI, scene: Scene, actor: str) -> dict[str, str]:
    return {} if actor == "anonymous" else bearer(app, scene.users[actor])


async def comment_ids(client: httpx.AsyncClient, post_id: int) -> list[int]:
    response = await client.get(f"/api/posts/{post_id}/comments")
    return [comment["id"] for comment in response.json()["comments"]]


async def post_exists(client: httpx.AsyncClient, post_id: int) -> bool:
    return (await client.get(f"/api/posts/{post_id}")).status_code == 200


LIST_AND_CREATE = {"anonymous": (200, 401), **dict.fromkeys(ACTORS[1:], (200, 201))}


@pytest.mark.parametrize("actor", ACTORS)
async def test_api_anyone_reads_and_anyone_logged_in_comments(
    app: FastAPI, client: httpx.AsyncClient, scene: Scene, actor: str
) -> None:
    headers = headers_of(app, scene, actor)
    url = f"/api/posts/{scene.post.id}/comments"

    listed = await client.get(url, headers=headers)
    created = await client.post(url, json={"body": f"by {actor}"}, headers=headers)

    assert (listed.status_code, created.status_code) == LIST_AND_CREATE[actor]
    assert len(await comment_ids(client, scene.post.id)) == (1 if actor == "anonymous" else 2)


API_DELETE_COMMENT = {
    "anonymous": 401,
    "other": 403,
    "commenter": 204,
    "post_author": 204,
    "moderator": 204,
}


@pytest.mark.parametrize("actor", ACTORS)
async def test_api_comment_deletion(
    app: FastAPI,
    client: httpx.AsyncClient,
    scene: Scene,
    actor: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="fastblog.moderation")
    url = f"/api/posts/{scene.post.id}/comments/{scene.comment.id}"

    response = await client.delete(url, headers=headers_of(app, scene, actor))

    assert response.status_code == API_DELETE_COMMENT[actor], response.text
    deleted = response.status_code == 204
    assert await comment_ids(client, scene.post.id) == ([] if deleted else [scene.comment.id])
    assert (await client.get(f"/api/posts/{scene.post.id}")).json()["comments"] == (
        0 if deleted else 1
    )
    moderation = [r.getMessage() for r in caplog.records if r.name == "fastblog.moderation"]
    if actor == "moderator":
        assert moderation == [
            f"Moderator moderator (user {scene.users['moderator'].id}) deleted comment "
            f"{scene.comment.id} by commenter (user {scene.users['commenter'].id})"
        ]
    else:  # the authors deleting their own, or a refusal: nothing to log
        assert moderation == []


API_DELETE_POST = {
    "anonymous": 401,
    "other": 403,
    "commenter": 403,
    "post_author": 204,
    "moderator": 204,
}


@pytest.mark.parametrize("actor", ACTORS)
async def test_api_post_deletion_by_its_author_or_a_moderator(
    app: FastAPI,
    client: httpx.AsyncClient,
    scene: Scene,
    actor: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="fastblog.moderation")

    response = await client.delete(
        f"/api/posts/{scene.post.id}", headers=headers_of(app, scene, actor)
    )

    assert response.status_code == API_DELETE_POST[actor], response.text
    assert await post_exists(client, scene.post.id) == (response.status_code != 204)
    moderation = [r.getMessage() for r in caplog.records if r.name == "fastblog.moderation"]
    if actor == "moderator":
        assert moderation == [
            f"Moderator moderator (user {scene.users['moderator'].id}) deleted post "
            f"{scene.post.id} by post_author (user {scene.users['post_author'].id})"
        ]
    else:
        assert moderation == []


async def test_api_a_moderator_cannot_edit_posts(
    app: FastAPI, client: httpx.AsyncClient, scene: Scene
) -> None:
    response = await client.patch(
        f"/api/posts/{scene.post.id}",
        json={"title": "Moderated"},
        headers=bearer(app, scene.users["moderator"]),
    )

    assert response.status_code == 403
    assert (await client.get(f"/api/posts/{scene.post.id}")).json()["title"] != "Moderated"


FORM_DELETE_COMMENT = {
    "other": 403,
    "commenter": 303,
    "post_author": 303,
    "moderator": 303,
}


@pytest.mark.parametrize("actor", ACTORS)
async def test_form_comment_deletion(client: httpx.AsyncClient, scene: Scene, actor: str) -> None:
    url = f"/posts/{scene.post.id}/comments/{scene.comment.id}/delete"
    if actor != "anonymous":
        await browser_login(client, scene.users[actor])

    response = await submit(client, url, {"next": f"/posts/{scene.post.id}/{scene.post.slug}"})

    if actor == "anonymous":
        assert is_login_redirect(response, url)
    else:
        assert response.status_code == FORM_DELETE_COMMENT[actor], response.text
    deleted = response.status_code == 303 and actor != "anonymous"
    if deleted:
        assert response.headers["location"] == f"/posts/{scene.post.id}/{scene.post.slug}#comments"
    assert await comment_ids(client, scene.post.id) == ([] if deleted else [scene.comment.id])


@pytest.mark.parametrize("actor", ACTORS)
async def test_form_commenting_needs_a_login(
    client: httpx.AsyncClient, scene: Scene, actor: str
) -> None:
    url = f"/posts/{scene.post.id}/comments"
    if actor != "anonymous":
        await browser_login(client, scene.users[actor])

    response = await submit(client, url, {"body": f"by {actor}"})

    if actor == "anonymous":
        assert is_login_redirect(response, url)
        assert len(await comment_ids(client, scene.post.id)) == 1
    else:
        assert response.status_code == 303
        assert len(await comment_ids(client, scene.post.id)) == 2


FORM_DELETE_POST = {"other": 403, "commenter": 403, "post_author": 303, "moderator": 303}


@pytest.mark.parametrize("actor", ACTORS)
async def test_form_post_deletion_by_its_author_or_a_moderator(
    client: httpx.AsyncClient, scene: Scene, actor: str
) -> None:
    url = f"/posts/{scene.post.id}/delete"
    if actor != "anonymous":
        await browser_login(client, scene.users[actor])

    confirm = await client.get(url)
    response = await submit(client, url)

    if actor == "anonymous":
        assert is_login_redirect(confirm, url)
        assert is_login_redirect(response, url)
    else:
        assert confirm.status_code == (200 if FORM_DELETE_POST[actor] == 303 else 403)
        assert response.status_code == FORM_DELETE_POST[actor]
    assert await post_exists(client, scene.post.id) == (actor not in ("post_author", "moderator"))


async def test_the_csrf_token_is_required_to_comment_or_delete(
    client: httpx.AsyncClient, scene: Scene
) -> None:
    await browser_login(client, scene.users["commenter"])
    post_id, comment_id = scene.post.id, scene.comment.id

    added = await client.post(f"/posts/{post_id}/comments", data={"body": "forged"})
    deleted = await client.post(f"/posts/{post_id}/comments/{comment_id}/delete", data={})

    assert (added.status_code, deleted.status_code) == (403, 403)
    assert await comment_ids(client, post_id) == [comment_id]


@pytest.mark.parametrize("actor", ACTORS)
async def test_a_comments_delete_link_asks_to_confirm_first(
    client: httpx.AsyncClient, scene: Scene, actor: str
) -> None:
    post_path = f"/posts/{scene.post.id}/{scene.post.slug}"
    if actor != "anonymous":
        await browser_login(client, scene.users[actor])

    shown = read_page(await client.get(post_path))
    links = [link for link in shown.links if link.text.startswith("Delete the comment")]
    if actor in ("anonymous", "other"):
        assert links == []
        url = f"/posts/{scene.post.id}/comments/{scene.comment.id}/delete"
        response = await client.get(url)
        if actor == "anonymous":
            assert is_login_redirect(response, url)
        else:
            assert response.status_code == 403
        return
    [link] = links
    confirm = await client.get(link.href)

    assert confirm.status_code == 200
    page = read_page(confirm)
    assert "Delete this comment?" in page.text
    assert scene.comment.body in page.text
    assert page.link("Keep it").path == post_path
    assert await comment_ids(client, scene.post.id) == [scene.comment.id]  # nothing yet
    form = read_form(confirm.text)
    assert form.values["next"] == post_path
