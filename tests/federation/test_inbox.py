"""The inbox: refusals (401, 413, 400, 403), and what queued activities do once the worker
has them: a Follow stored and a signed Accept delivered, Undo, a reply that becomes a
sanitized comment (edited and deleted by its author's server), likes and boosts counted."""

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from fastblog.comments.models import Comment
from fastblog.federation.blocks import block_domain
from fastblog.federation.models import InboundActivity, Reaction, RemoteActor, RemoteFollower
from tests.asgi import resources_of
from tests.auth.test_mail_outbox import until
from tests.factories import make_posts, make_user
from tests.federation.conftest import (
    ACTIVITY_JSON,
    SITE,
    RemoteServer,
    cavage_headers,
    post_activity,
    verifies,
)
from tests.html import read_page

pytestmark = pytest.mark.anyio


async def setup(app: FastAPI) -> tuple[int, int, str]:
    async with resources_of(app).database.transaction() as session:
        user = await make_user(session, username="writer")
        (post,) = await make_posts(session, user, 1)
    return user.id, post.id, post.slug


async def count(app: FastAPI, model: Any, *where: Any) -> int:
    async with resources_of(app).database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def follow(remote: RemoteServer, user_id: int, n: int = 1) -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{remote.actor}#follows/{n}",
        "type": "Follow",
        "actor": remote.actor,
        "object": f"{SITE}/users/{user_id}/posts",
    }


async def test_refusals(fed_app: FastAPI, ap: httpx.AsyncClient, remote: RemoteServer) -> None:
    user_id, _, _ = await setup(fed_app)
    inbox = f"/ap/users/{user_id}/inbox"
    body = json.dumps(follow(remote, user_id)).encode()
    unsigned = await ap.post(inbox, content=body, headers={"Content-Type": ACTIVITY_JSON})
    assert unsigned.status_code == 401
    assert "not signed" in unsigned.json()["detail"]
    headers = cavage_headers(remote.key, remote.key_id, f"{SITE}{inbox}", body)
    tampered = body.replace(b"follows/1", b"follows/2")
    bad_digest = await ap.post(inbox, content=tampered, headers=headers)
    assert bad_digest.status_code == 401
    assert "Digest" in bad_digest.json()["detail"]
    other = json.dumps(follow(remote, user_id, 3)).encode()
    wrong = {**cavage_headers(remote.key, remote.key_id, f"{SITE}{inbox}", other)}
    wrong["Signature"] = headers["Signature"]  # a signature over another request
    assert (await ap.post(inbox, content=other, headers=wrong)).status_code == 401
    too_big = b"{" + b" " * (1024 * 1024) + b"}"
    assert (await ap.post(inbox, content=too_big)).status_code == 413
    for not_activity in (b"[1, 2]", b"not json", b'{"type": "Follow"}'):
        response = await ap.post(inbox, content=not_activity)
        assert response.status_code == 400, not_activity
    await block_domain(resources_of(fed_app).database, "127.0.0.1")
    blocked = await post_activity(ap, remote, inbox, follow(remote, user_id))
    assert blocked.status_code == 403
    assert await count(fed_app, InboundActivity) == 0
    assert await count(fed_app, RemoteFollower) == 0


async def test_a_follow_is_stored_and_accepted_with_a_signed_accept(
    fed_app: FastAPI, ap: httpx.AsyncClient, remote: RemoteServer
) -> None:
    user_id, _, _ = await setup(fed_app)
    person = (await ap.get(f"/users/{user_id}/posts", headers={"Accept": ACTIVITY_JSON})).json()
    response = await post_activity(
        ap, remote, f"/ap/users/{user_id}/inbox", follow(remote, user_id)
    )
    assert response.status_code == 202

    await until(lambda: _received(remote, 1), "the Accept delivered")
    headers, body = remote.received[0]
    accept = json.loads(body)
    assert accept["type"] == "Accept"
    assert accept["actor"] == person["id"]
    assert accept["object"]["id"] == f"{remote.actor}#follows/1"
    assert verifies(person["publicKey"]["publicKeyPem"], headers, "/users/alice/inbox")
    assert await count(fed_app, RemoteFollower) == 1
    followers = (await ap.get(f"/ap/users/{user_id}/followers")).json()
    assert followers["totalItems"] == 1
    page = read_page(await ap.get(f"/users/{user_id}/posts"))
    assert "1 on the fediverse" in page.text
    assert "@writer@blog.example" in page.text

    undo = {
        "id": f"{remote.actor}#undo/1",
        "type": "Undo",
        "actor": remote.actor,
        "object": follow(remote, user_id),
    }
    assert (await post_activity(ap, remote, "/ap/inbox", undo)).status_code == 202
    await until(lambda: _none(fed_app, RemoteFollower), "the follower removed")


async def _received(remote: RemoteServer, n: int) -> bool:
    return len(remote.received) >= n


async def _none(app: FastAPI, model: Any) -> bool:
    return await count(app, model) == 0


def reply(remote: RemoteServer, post_id: int, content: str, n: int = 1) -> dict[str, Any]:
    return {
        "id": f"{remote.actor}/statuses/{n}",
        "type": "Note",
        "attributedTo": remote.actor,
        "inReplyTo": f"{SITE}/posts/{post_id}",
        "content": content,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
    }


async def test_a_reply_becomes_a_sanitized_comment_edited_and_deleted_from_afar(
    fed_app: FastAPI, ap: httpx.AsyncClient, remote: RemoteServer
) -> None:
    resources_of(fed_app).site.forget()
    _, post_id, slug = await setup(fed_app)
    note = reply(
        remote,
        post_id,
        '<p><span class="h-card"><a href="https://blog.example/users/1/posts">@writer</a></span>'
        " Lovely post<script>alert(1)</script><img src=x onerror=alert(2)></p><p>Second</p>",
    )
    create = {
        "id": f"{note['id']}/activity",
        "type": "Create",
        "actor": remote.actor,
        "object": note,
    }
    assert (await post_activity(ap, remote, "/ap/inbox", create)).status_code == 202
    await until(lambda: _some(fed_app, Comment), "the comment written")
    async with resources_of(fed_app).database.session() as session:
        comment = (await session.scalars(select(Comment))).one()
    # First comment of someone new under approve_first: it waits for an editor.
    assert comment.status == "pending"
    assert "<script" not in comment.body_html
    assert "onerror" not in comment.body_html
    assert "alert" not in comment.body
    assert "Lovely post" in comment.body_html
    # Shown to an editor; approve it to see it as readers do.
    async with resources_of(fed_app).database.transaction() as session:
        comment = await session.get(Comment, comment.id)
        assert comment is not None
        comment.status = "approved"
        await session.commit()
    response = await ap.get(f"/posts/{post_id}/{slug}")
    page = read_page(response)
    assert "Alice Remote" in page.text
    handle = "@alice@" + remote.base.removeprefix("http://")
    assert page.link(handle).href == f"{remote.base}/@alice"
    assert "Lovely post" in page.text
    assert "alert(" not in response.text

    edited = {**note, "content": "<p>Edited words</p>"}
    update = {
        "id": f"{note['id']}#update",
        "type": "Update",
        "actor": remote.actor,
        "object": edited,
    }
    assert (await post_activity(ap, remote, "/ap/inbox", update)).status_code == 202
    await until(lambda: _body_is(fed_app, "Edited words"), "the comment edited")

    delete = {
        "id": f"{note['id']}#delete",
        "type": "Delete",
        "actor": remote.actor,
        "object": {"id": note["id"], "type": "Tombstone"},
    }
    assert (await post_activity(ap, remote, "/ap/inbox", delete)).status_code == 202
    await until(lambda: _none(fed_app, Comment), "the comment deleted")


async def _some(app: FastAPI, model: Any) -> bool:
    return await count(app, model) > 0


async def _body_is(app: FastAPI, text: str) -> bool:
    async with resources_of(app).database.session() as session:
        body = await session.scalar(select(Comment.body))
    return body == text


async def test_likes_and_boosts_are_counted_and_undone(
    fed_app: FastAPI, ap: httpx.AsyncClient, remote: RemoteServer
) -> None:
    _, post_id, _ = await setup(fed_app)
    post = f"{SITE}/posts/{post_id}"
    like = {"id": f"{remote.actor}#likes/1", "type": "Like", "actor": remote.actor, "object": post}
    boost = {
        "id": f"{remote.actor}#boosts/1",
        "type": "Announce",
        "actor": remote.actor,
        "object": post,
    }
    for activity in (like, boost, like):  # a Like delivered twice counts once
        assert (await post_activity(ap, remote, "/ap/inbox", activity)).status_code == 202
    await until(lambda: _none(fed_app, InboundActivity), "the activities handled")
    article = (await ap.get(f"/posts/{post_id}", headers={"Accept": ACTIVITY_JSON})).json()
    assert article["likes"]["totalItems"] == 1
    assert article["shares"]["totalItems"] == 1
    undo = {"id": f"{remote.actor}#undo/2", "type": "Undo", "actor": remote.actor, "object": like}
    assert (await post_activity(ap, remote, "/ap/inbox", undo)).status_code == 202
    await until(lambda: _kinds(fed_app, ["announce"]), "the like undone")


async def _kinds(app: FastAPI, kinds: list[str]) -> bool:
    async with resources_of(app).database.session() as session:
        return sorted((await session.scalars(select(Reaction.kind))).all()) == kinds


async def test_anything_else_is_taken_and_ignored(
    fed_app: FastAPI, ap: httpx.AsyncClient, remote: RemoteServer
) -> None:
    await setup(fed_app)
    move = {"id": f"{remote.actor}#move", "type": "Move", "actor": remote.actor, "object": "x"}
    assert (await post_activity(ap, remote, "/ap/inbox", move)).status_code == 202
    await until(lambda: _none(fed_app, InboundActivity), "the activity handled")
    assert remote.received == []


async def test_an_update_of_the_person_refreshes_the_cached_actor(
    fed_app: FastAPI, ap: httpx.AsyncClient, remote: RemoteServer
) -> None:
    await setup(fed_app)
    like = {"id": f"{remote.actor}#l", "type": "Like", "actor": remote.actor, "object": "x"}
    assert (await post_activity(ap, remote, "/ap/inbox", like)).status_code == 202  # cached
    renamed = {**remote.person(), "name": "Alice Renamed", "url": "javascript:alert(1)"}
    update = {"id": f"{remote.actor}#u", "type": "Update", "actor": remote.actor, "object": renamed}
    assert (await post_activity(ap, remote, "/ap/inbox", update)).status_code == 202
    await until(lambda: _actor_named(fed_app, "Alice Renamed"), "the actor refreshed")
    async with resources_of(fed_app).database.session() as session:
        assert await session.scalar(select(RemoteActor.url)) is None  # never a script link


async def _actor_named(app: FastAPI, name: str) -> bool:
    async with resources_of(app).database.session() as session:
        return await session.scalar(select(RemoteActor.name)) == name
