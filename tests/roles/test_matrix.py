"""The role matrix, as one table: each role (and an outsider) against each action on posts
and accounts, through the API, on both databases. A cell is the status the user gets; where
the action went through, what changed is checked too."""

from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import Invitation, User
from fastblog.posts.models import Post
from tests.accounts import bearer
from tests.factories import make_user

pytestmark = pytest.mark.anyio

ROLES = ["owner", "admin", "editor", "author", "contributor", "reader"]
ACTIONS = [
    "create draft",
    "submit review",
    "publish",
    "edit own",
    "edit other",
    "delete own",
    "delete other",
    "approve review",
    "change role",
    "invite",
]
# What each role gets; the acting user's own post is a draft (or, for "edit own" and
# "delete own" of a reader, a post written while they were an author). "edit other" and
# "delete other" are on an author's published post; "approve review" publishes a
# contributor's post in review; "change role" makes an author a contributor; "invite"
# invites a new contributor.
MATRIX: dict[str, dict[str, int]] = {
    "owner": dict.fromkeys(ACTIONS, 0),
    "admin": dict.fromkeys(ACTIONS, 0),
    "editor": {**dict.fromkeys(ACTIONS, 0), "change role": 403, "invite": 403},
    "author": {
        **dict.fromkeys(ACTIONS, 0),
        "edit other": 403,
        "delete other": 403,
        "approve review": 404,  # a post in review is nobody's business but its author's
        "change role": 403,
        "invite": 403,
    },
    "contributor": {
        "create draft": 201,
        "submit review": 201,
        "publish": 403,
        "edit own": 200,
        "edit other": 403,
        "delete own": 204,
        "delete other": 403,
        "approve review": 404,
        "change role": 403,
        "invite": 403,
    },
    "reader": {
        "create draft": 403,
        "submit review": 403,
        "publish": 403,
        "edit own": 403,
        "edit other": 403,
        "delete own": 204,  # what they wrote before stays theirs to remove
        "delete other": 403,
        "approve review": 404,
        "change role": 403,
        "invite": 403,
    },
}
ALLOWED = {
    "create draft": 201,
    "submit review": 201,
    "publish": 201,
    "edit own": 200,
    "edit other": 200,
    "delete own": 204,
    "delete other": 204,
    "approve review": 200,
    "change role": 200,
    "invite": 201,
}
for row in MATRIX.values():
    for action, expected in row.items():
        row[action] = expected or ALLOWED[action]


@dataclass
class Scene:
    actor: User
    author: User
    contributor: User
    own_post: int
    published: int
    in_review: int


async def _post(client: httpx.AsyncClient, app: FastAPI, user: User, status: str) -> int:
    response = await client.post(
        "/api/posts",
        json={"title": f"A {status} post", "content": "Words.", "status": status},
        headers=bearer(app, user),
    )
    assert response.status_code == 201, response.text
    post_id: int = response.json()["id"]
    return post_id


async def _scene(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, role: str
) -> Scene:
    if role != "owner":
        await make_user(session, username="the-owner", role="owner")
    actor = await make_user(session, username=f"the-{role}", role="author")
    author = await make_user(session, username="an-author", role="author")
    contributor = await make_user(session, username="a-contributor", role="contributor")
    own_post = await _post(client, app, actor, "draft")  # written as an author
    actor.role = role
    await session.commit()
    return Scene(
        actor=actor,
        author=author,
        contributor=contributor,
        own_post=own_post,
        published=await _post(client, app, author, "published"),
        in_review=await _post(client, app, contributor, "review"),
    )


async def _act(client: httpx.AsyncClient, scene: Scene, action: str, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    new = {"title": "New", "content": "Words."}
    match action:
        case "create draft" | "submit review":
            status = action.split()[-1]
            return await client.post("/api/posts", json={**new, "status": status}, headers=headers)
        case "publish":
            return await client.post("/api/posts", json=new, headers=headers)
        case "edit own":
            return await client.patch(
                f"/api/posts/{scene.own_post}", json={"title": "Edited"}, headers=headers
            )
        case "edit other":
            return await client.patch(
                f"/api/posts/{scene.published}", json={"title": "Edited"}, headers=headers
            )
        case "delete own":
            return await client.delete(f"/api/posts/{scene.own_post}", headers=headers)
        case "delete other":
            return await client.delete(f"/api/posts/{scene.published}", headers=headers)
        case "approve review":
            return await client.patch(
                f"/api/posts/{scene.in_review}", json={"status": "published"}, headers=headers
            )
        case "change role":
            return await client.put(
                f"/api/users/{scene.author.id}/role", json={"role": "contributor"}, headers=headers
            )
        case "invite":
            return await client.post(
                "/api/invitations",
                json={"email": "new@example.com", "role": "contributor"},
                headers=headers,
            )
    raise AssertionError(action)


async def _effect(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, scene: Scene, action: str
) -> bool:
    """Whether the action's change is there, as a reader of the site (or the API) sees it, or
    (what nobody else sees: drafts, invitations) in the database."""
    titles = [post["title"] for post in (await client.get("/api/posts")).json()["posts"]]
    author = (await client.get(f"/api/users/{scene.author.id}")).json()
    own = await client.get(f"/api/posts/{scene.own_post}", headers=bearer(app, scene.actor))
    match action:
        case "edit own":
            return own.json()["title"] == "Edited"
        case "edit other":
            return "Edited" in titles
        case "delete own":
            return own.status_code == 404
        case "delete other":
            return "A published post" not in titles
        case "approve review":
            return "A review post" in titles
        case "change role":
            return author["role"] == "contributor"
        case "publish":
            return "New" in titles
        case "create draft" | "submit review":
            written = select(Post.status, Post.submitted_at).where(Post.title == "New")
            return (await session.execute(written)).all() != []
        case "invite":
            return await session.scalar(select(func.count()).select_from(Invitation)) == 1
    raise AssertionError(action)


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("role", ROLES)
async def test_role_matrix(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, role: str, action: str
) -> None:
    scene = await _scene(app, client, session, role)

    response = await _act(client, scene, action, bearer(app, scene.actor))

    expected = MATRIX[role][action]
    assert response.status_code == expected, response.text
    assert await _effect(client, app, session, scene, action) == (expected < 400)
    if expected == 403:
        # In plain words, saying what is missing.
        detail = response.json()["detail"]
        assert isinstance(detail, str)
        assert detail.endswith("."), detail
        assert any(word in detail for word in ("editor", "admin", "owner", "author")), detail
    if action in ("create draft", "submit review") and expected == 201:
        assert response.json()["status"] == action.split()[-1]


@pytest.mark.parametrize("action", ["create draft", "publish", "edit other", "change role"])
async def test_a_role_taken_away_counts_for_a_token_issued_before(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, action: str
) -> None:
    scene = await _scene(app, client, session, "admin")
    headers = bearer(app, scene.actor)  # issued while an admin
    scene.actor.role = "reader"
    await session.commit()

    response = await _act(client, scene, action, headers)

    assert response.status_code == 403
