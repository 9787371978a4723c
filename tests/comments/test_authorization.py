"""Who may do what with comments, and moderators' deletions of posts: every new route and the
post deletions, for anonymous, another user, the comment's author, the post's author and a
moderator; through the API and through the forms. One table, one test body: each row says
what each actor gets and what the request does to the post and its comments."""

import logging
import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

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
LOGIN = "a redirect to the login page"  # a form's answer to anonymous
FORM_ACTION = re.compile(r'<form method="post" action="([^"]+)"')


@dataclass
class Scene:
    post: Post
    comment: Comment
    users: dict[str, User]

    def fill(self, template: str) -> str:
        return template.format(post=self.post.id, slug=self.post.slug, comment=self.comment.id)


async def comment_ids(client: httpx.AsyncClient, post_id: int) -> list[int]:
    response = await client.get(f"/api/posts/{post_id}/comments")
    return [comment["id"] for comment in response.json()["comments"]]


@pytest.fixture
async def scene(session: AsyncSession) -> Scene:
    users = {
        "post_author": await make_user(session, username="post_author"),
        "commenter": await make_user(session, username="commenter"),
        "other": await make_user(session, username="other"),
        # A moderator is an editor now (fastblog.accounts.roles).
        "moderator": await make_user(session, username="moderator", role="editor"),
    }
    (post,) = await make_posts(session, users["post_author"], 1)
    (comment,) = await make_comments(session, post, users["commenter"], 1)
    return Scene(post=post, comment=comment, users=users)


class Effect(Enum):
    """What a request does when it is allowed."""

    NOTHING = "nothing"
    COMMENT_ADDED = "comment added"
    COMMENT_DELETED = "comment deleted"
    POST_EDITED = "post edited"
    POST_DELETED = "post deleted"


@dataclass(frozen=True)
class Route:
    method: str
    url: str  # {post}, {slug} and {comment} are the scene's
    answers: dict[str, int | str]  # by actor
    effect: Effect = Effect.NOTHING
    body: dict[str, str] = field(default_factory=dict)  # JSON for the API, fields for a form
    # A form: where a success goes, and whether a confirmation page comes first.
    location: str | None = None
    confirm_first: bool = False
    # What the moderation log says when a moderator uses it ({...} filled from the scene).
    logged: str | None = None

    @property
    def is_form(self) -> bool:
        return not self.url.startswith("/api/")


def answers(*statuses: int | str) -> dict[str, int | str]:
    return dict(zip(ACTORS, statuses, strict=True))


ROUTES = {
    "api list": Route("GET", "/api/posts/{post}/comments", answers(200, 200, 200, 200, 200)),
    "api comment": Route(
        "POST",
        "/api/posts/{post}/comments",
        answers(401, 201, 201, 201, 201),
        Effect.COMMENT_ADDED,
        body={"body": "Another comment"},
    ),
    "api delete comment": Route(
        "DELETE",
        "/api/posts/{post}/comments/{comment}",
        answers(401, 403, 204, 204, 204),
        Effect.COMMENT_DELETED,
        logged="deleted comment {comment} by commenter (user {commenter})",
    ),
    "api edit post": Route(
        "PATCH",
        "/api/posts/{post}",
        answers(401, 403, 403, 200, 200),  # an editor edits anyone's post
        Effect.POST_EDITED,
        body={"title": "Edited"},
    ),
    "api delete post": Route(
        "DELETE",
        "/api/posts/{post}",
        answers(401, 403, 403, 204, 204),
        Effect.POST_DELETED,
        logged="deleted post {post} by post_author (user {post_author})",
    ),
    "form comment": Route(
        "POST",
        "/posts/{post}/comments",
        answers(LOGIN, 303, 303, 303, 303),
        Effect.COMMENT_ADDED,
        body={"body": "Another comment"},
    ),
    "form delete comment": Route(
        "POST",
        "/posts/{post}/comments/{comment}/delete",
        answers(LOGIN, 403, 303, 303, 303),
        Effect.COMMENT_DELETED,
        body={"next": "/posts/{post}/{slug}"},
        location="/posts/{post}/{slug}#comments",
        logged="deleted comment {comment} by commenter (user {commenter})",
    ),
    "form delete post": Route(
        "POST",
        "/posts/{post}/delete",
        answers(LOGIN, 403, 403, 303, 303),
        Effect.POST_DELETED,
        confirm_first=True,
        logged="deleted post {post} by post_author (user {post_author})",
    ),
}


async def send(
    client: httpx.AsyncClient, app: FastAPI, scene: Scene, route: Route, actor: str
) -> tuple[httpx.Response | None, httpx.Response]:
    """The request as the actor makes it: a bearer token for the API, a logged-in browser
    session (and its CSRF token) for a form; the confirmation page's answer, if any."""
    url = scene.fill(route.url)
    body = {name: scene.fill(value) for name, value in route.body.items()}
    if not route.is_form:
        headers = {} if actor == "anonymous" else bearer(app, scene.users[actor])
        json: Any = body or None
        return None, await client.request(route.method, url, json=json, headers=headers)
    if actor != "anonymous":
        await browser_login(client, scene.users[actor])
    confirmed = await client.get(url) if route.confirm_first else None
    return confirmed, await submit(client, url, body)


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("name", ROUTES)
async def test_who_may_do_what(
    app: FastAPI,
    client: httpx.AsyncClient,
    scene: Scene,
    name: str,
    actor: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="fastblog.moderation")
    route, expected = ROUTES[name], ROUTES[name].answers[actor]
    url = scene.fill(route.url)

    confirmed, response = await send(client, app, scene, route, actor)

    if expected == LOGIN:
        assert is_login_redirect(response, url)
        assert confirmed is None or is_login_redirect(confirmed, url)
    else:
        assert response.status_code == expected, response.text
        assert confirmed is None or confirmed.status_code == (200 if expected == 303 else 403)
    if expected == 401:
        assert response.headers["www-authenticate"] == "Bearer"
    done = expected != LOGIN and response.status_code < 400
    if done and route.location:
        assert response.headers["location"] == scene.fill(route.location)
    await assert_effect(client, scene, route.effect if done else Effect.NOTHING)
    moderation = [r.getMessage() for r in caplog.records if r.name == "fastblog.moderation"]
    if actor == "moderator" and done and route.logged:
        ids = {role: user.id for role, user in scene.users.items()}
        logged = route.logged.format(post=scene.post.id, comment=scene.comment.id, **ids)
        assert moderation == [f"Moderator moderator (user {ids['moderator']}) {logged}"]
    else:  # the authors acting on their own, or a refusal: nothing to log
        assert moderation == []


async def assert_effect(client: httpx.AsyncClient, scene: Scene, effect: Effect) -> None:
    """The post and its comments as anyone now sees them, through the API."""
    post = await client.get(f"/api/posts/{scene.post.id}")
    if effect is Effect.POST_DELETED:
        assert post.status_code == 404
        return
    assert post.status_code == 200
    assert (post.json()["title"] == "Edited") == (effect is Effect.POST_EDITED)
    listed = (await client.get(f"/api/posts/{scene.post.id}/comments")).json()["comments"]
    ids = [comment["id"] for comment in listed]
    if effect is Effect.COMMENT_ADDED:
        assert len(ids) == 2
        assert scene.comment.id in ids
    elif effect is Effect.COMMENT_DELETED:
        assert ids == []
    else:
        assert ids == [scene.comment.id]
    assert post.json()["comments"] == len(ids)  # the post's counter follows


async def test_the_csrf_token_is_required_to_comment_or_delete(
    client: httpx.AsyncClient, scene: Scene
) -> None:
    await browser_login(client, scene.users["commenter"])
    post_id, comment_id = scene.post.id, scene.comment.id

    added = await client.post(f"/posts/{post_id}/comments", data={"body": "forged"})
    deleted = await client.post(f"/posts/{post_id}/comments/{comment_id}/delete", data={})

    assert (added.status_code, deleted.status_code) == (403, 403)
    listed = (await client.get(f"/api/posts/{post_id}/comments")).json()["comments"]
    assert [comment["id"] for comment in listed] == [comment_id]


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
    assert "The comment by commenter will be gone for good" in page.text
    assert scene.comment.body in page.text
    assert page.link("Keep it").path == post_path
    assert await comment_ids(client, scene.post.id) == [scene.comment.id]  # nothing yet
    form = read_form(confirm.text)
    assert form.values["next"] == post_path

    # Its Delete button posts where the page says, and that deletes the comment.
    action = FORM_ACTION.search(confirm.text)
    assert action is not None
    deleted = await submit(client, action[1], {"next": post_path})
    assert deleted.status_code == 303
    assert deleted.headers["location"] == f"{post_path}#comments"
    assert await comment_ids(client, scene.post.id) == []
