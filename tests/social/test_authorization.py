"""Who may use each new route: anonymous, another user, the author (of the post, or the user
being followed). API: 401 without a token. Pages: the login page, and 403 without the form's
CSRF token."""

import httpx
import pytest
from fastapi import FastAPI

from fastblog.accounts.models import User
from fastblog.posts.models import Post
from tests.accounts import bearer, browser, browser_login, is_login_redirect, submit

pytestmark = pytest.mark.anyio

ACTORS = ["anonymous", "other", "author"]


@pytest.fixture
def users(author: User, reader: User) -> dict[str, User]:
    """The actors who log in: the author, and anyone else (the reader)."""
    return {"other": reader, "author": author}


def headers_of(app: FastAPI, actor: str, users: dict[str, User]) -> dict[str, str]:
    return bearer(app, users[actor]) if actor != "anonymous" else {}


# (method, path template, expected status by actor)
API_ROUTES = {
    "like": ("POST", "/api/posts/{post}/like", {"anonymous": 401, "other": 200, "author": 200}),
    "unlike": ("DELETE", "/api/posts/{post}/like", {"anonymous": 401, "other": 200, "author": 200}),
    "follow": (
        "POST",
        "/api/users/{author}/follow",
        {"anonymous": 401, "other": 200, "author": 422},
    ),
    "unfollow": (
        "DELETE",
        "/api/users/{author}/follow",
        {"anonymous": 401, "other": 200, "author": 422},
    ),
    "feed": ("GET", "/api/feed", {"anonymous": 401, "other": 200, "author": 200}),
}


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("route", API_ROUTES)
async def test_api_authorization_matrix(
    app: FastAPI,
    client: httpx.AsyncClient,
    author: User,
    users: dict[str, User],
    post: Post,
    route: str,
    actor: str,
) -> None:
    method, template, expected = API_ROUTES[route]
    url = template.format(post=post.id, author=author.id)

    response = await client.request(method, url, headers=headers_of(app, actor, users))

    assert response.status_code == expected[actor], response.text
    if actor == "anonymous":
        assert response.headers["www-authenticate"] == "Bearer"
    likes = (await client.get(f"/api/posts/{post.id}")).json()["likes"]
    followers = (await client.get(f"/api/users/{author.id}")).json()["followers"]
    changed = response.status_code == 200 and method == "POST"
    assert (likes, followers) == (
        int(changed and route == "like"),
        int(changed and route == "follow"),
    )


# (path template, expected status by logged-in actor, where a success goes)
FORMS = {
    "like": ("/posts/{post}/like", {"other": 303, "author": 303}),
    "unlike": ("/posts/{post}/unlike", {"other": 303, "author": 303}),
    "follow": ("/users/{author}/follow", {"other": 303, "author": 422}),
    "unfollow": ("/users/{author}/unfollow", {"other": 303, "author": 422}),
}


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("form", FORMS)
async def test_form_authorization_matrix(
    app: FastAPI,
    client: httpx.AsyncClient,
    author: User,
    users: dict[str, User],
    post: Post,
    form: str,
    actor: str,
) -> None:
    template, expected = FORMS[form]
    url = template.format(post=post.id, author=author.id)

    async with browser(app) as visitor:
        if actor != "anonymous":
            await browser_login(visitor, users[actor])
        without_token = await visitor.post(url)
        response = await submit(visitor, url)

    assert without_token.status_code == 403
    if actor == "anonymous":
        assert is_login_redirect(response, url)
        return
    assert response.status_code == expected[actor], response.text
    if response.status_code == 303:
        back = response.headers["location"]
        if form in {"like", "unlike"}:
            assert back == f"/posts/{post.id}/post-1-by-author#likes"
        else:
            assert back == f"/users/{author.id}/posts"


@pytest.mark.parametrize("actor", ACTORS)
async def test_the_feed_page_is_for_logged_in_readers(
    app: FastAPI, users: dict[str, User], client: httpx.AsyncClient, actor: str
) -> None:
    async with browser(app) as visitor:
        if actor != "anonymous":
            await browser_login(visitor, users[actor])
        response = await visitor.get("/feed")

    if actor == "anonymous":
        assert is_login_redirect(response, "/feed")
    else:
        assert response.status_code == 200
