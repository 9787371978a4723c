"""Delivery: a post published, edited and deleted reaches each follower's shared inbox once
(Create, Update, Delete), signed by its author's key, never in the request; a failing inbox
is tried again; a sender killed mid-send leaves its deliveries to another process; two hosts
never send one delivery twice."""

import asyncio
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from fastblog.accounts.models import User
from fastblog.db import utcnow
from fastblog.federation.blocks import block_domain
from fastblog.federation.delivery import QUEUE, DeliverySender
from fastblog.federation.models import Delivery, RemoteActor, RemoteFollower
from fastblog.posts.visibility import PostVisibility
from tests.accounts import bearer
from tests.asgi import asgi_transport, resources_of
from tests.auth.conftest import AppFactory
from tests.auth.test_mail_outbox import until
from tests.factories import StatementCounter, after_announcing, announced, due_now, make_user
from tests.federation.conftest import ACTIVITY_JSON, SITE, RemoteServer, federation_of, verifies

pytestmark = pytest.mark.anyio


async def followed_author(
    app: FastAPI, ap: httpx.AsyncClient, remote: RemoteServer
) -> tuple[User, str]:
    """An author followed by two accounts of `remote` (one shared inbox), and their key."""
    async with resources_of(app).database.transaction() as session:
        user = await make_user(session, username="writer")
    person = (await ap.get(f"/users/{user.id}/posts", headers={"Accept": ACTIVITY_JSON})).json()
    async with resources_of(app).database.transaction() as session:
        for name in ("alice", "bob"):
            actor = RemoteActor(
                uri=f"{remote.base}/users/{name}",
                inbox=f"{remote.base}/users/{name}/inbox",
                shared_inbox=remote.shared_inbox,
                key_id=f"{remote.base}/users/{name}#main-key",
                public_key_pem=remote.public_pem(),
                username=name,
                host=remote.base.removeprefix("http://"),
            )
            session.add(actor)
            await session.flush()
            session.add(
                RemoteFollower(user_id=user.id, actor_id=actor.id, follow_id=f"{actor.uri}#f")
            )
        await session.commit()
    return user, person["publicKey"]["publicKeyPem"]


async def received(remote: RemoteServer, n: int) -> bool:
    return len(remote.received) >= n


async def deliveries(app: FastAPI) -> int:
    async with resources_of(app).database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Delivery)) or 0)


async def test_a_post_published_edited_and_deleted_reaches_the_shared_inbox_once_each(
    fed_app: FastAPI, ap: httpx.AsyncClient, remote: RemoteServer
) -> None:
    user, public_pem = await followed_author(fed_app, ap, remote)
    auth = bearer(fed_app, user)
    created = await ap.post(
        "/api/posts", json={"title": "Hello fediverse", "content": "Some *words*."}, headers=auth
    )
    assert created.status_code == 201
    post_id = created.json()["id"]
    await until(lambda: received(remote, 1), "the Create delivered")
    headers, body = remote.received[0]
    create = json.loads(body)
    assert create["type"] == "Create"
    assert create["object"]["id"] == f"{SITE}/posts/{post_id}"
    assert create["object"]["name"] == "Hello fediverse"
    assert "<em>words</em>" in create["object"]["content"]
    assert verifies(public_pem, headers, "/inbox")

    edited = await ap.patch(f"/api/posts/{post_id}", json={"content": "New words."}, headers=auth)
    assert edited.status_code == 200
    await until(lambda: received(remote, 2), "the Update delivered")
    update_activity = remote.activities()[1]
    assert update_activity["type"] == "Update"
    assert "New words." in update_activity["object"]["content"]

    assert (await ap.delete(f"/api/posts/{post_id}", headers=auth)).status_code == 204
    await until(lambda: received(remote, 3), "the Delete delivered")
    delete = remote.activities()[2]
    assert delete["type"] == "Delete"
    assert delete["object"]["type"] == "Tombstone"
    assert delete["object"]["id"] == f"{SITE}/posts/{post_id}"
    gone = await ap.get(f"/posts/{post_id}", headers={"Accept": ACTIVITY_JSON})
    assert gone.status_code == 410
    assert gone.json()["type"] == "Tombstone"
    await asyncio.sleep(0.3)  # a second copy of anything would have arrived by now
    assert [a["type"] for a in remote.activities()] == ["Create", "Update", "Delete"]
    assert all(h.get("host") == remote.base.removeprefix("http://") for h, _ in remote.received)


# The delivery sender polls hourly: whatever it sends meanwhile it was woken for.
HOURLY_POLL: dict[str, Any] = {
    "public_base_url": SITE,
    "federation_allow_private_addresses": True,
    "federation_poll_seconds": 3600,
    "post_schedule_poll_seconds": 3600,
    "allowed_hosts": ["blog.example"],
}


async def test_a_followed_authors_changes_go_out_without_waiting_for_the_poll(
    make_app: AppFactory, remote: RemoteServer
) -> None:
    app = await make_app(**HOURLY_POLL)
    async with httpx.AsyncClient(transport=asgi_transport(app), base_url=SITE) as ap:
        user, _ = await followed_author(app, ap, remote)
        auth = bearer(app, user)
        created = await ap.post("/api/posts", json={"title": "T", "content": "x"}, headers=auth)
        url = f"/api/posts/{created.json()['id']}"
        await until(lambda: received(remote, 1), "the Create delivered")
        assert (await ap.patch(url, json={"content": "y"}, headers=auth)).status_code == 200
        await until(lambda: received(remote, 2), "the Update delivered")
        assert (await ap.patch(url, json={"status": "draft"}, headers=auth)).status_code == 200
        await until(lambda: received(remote, 3), "the Delete delivered (back to draft)")
        assert (await ap.patch(url, json={"status": "published"}, headers=auth)).status_code == 200
        await until(lambda: received(remote, 4), "the Create delivered again")
        assert (await ap.delete(url, headers=auth)).status_code == 204
        await until(lambda: received(remote, 5), "the Delete delivered (deleted)")
    assert [a["type"] for a in remote.activities()] == [
        *("Create", "Update", "Delete", "Create", "Delete")
    ]


async def test_an_author_nobody_follows_wakes_no_delivery_sender(make_app: AppFactory) -> None:
    app = await make_app(**HOURLY_POLL)
    database = resources_of(app).database
    async with database.transaction() as session:
        user = await make_user(session, username="unfollowed")
    auth = bearer(app, user)
    log = StatementCounter(database, background=True)
    async with httpx.AsyncClient(transport=asgi_transport(app), base_url=SITE) as ap:
        with log() as statements:
            created = await ap.post("/api/posts", json={"title": "T", "content": "x"}, headers=auth)
            await until(lambda: announced(database, created.json()["id"]), "announced")
            url = f"/api/posts/{created.json()['id']}"
            assert (await ap.patch(url, json={"content": "y"}, headers=auth)).status_code == 200
            assert (await ap.delete(url, headers=auth)).status_code == 204
            await asyncio.sleep(0.3)  # a sender woken by any of them would have looked by now
    # What the database's query log shows: no pass of the delivery sender (it reads the queue).
    assert not [sql for sql in after_announcing(statements) if "ap_deliveries" in sql]


async def test_a_failing_inbox_is_tried_again_with_doubling_waits(
    fed_app: FastAPI, ap: httpx.AsyncClient, remote: RemoteServer
) -> None:
    user, _ = await followed_author(fed_app, ap, remote)
    remote.answers = [503, 500]
    created = await ap.post(
        "/api/posts", json={"title": "Retry me", "content": "x"}, headers=bearer(fed_app, user)
    )
    assert created.status_code == 201
    await until(lambda: received(remote, 3), "the third attempt taken")
    await until(lambda: _no_deliveries(fed_app), "the delivery done")
    assert [a["type"] for a in remote.activities()] == ["Create"] * 3


async def _no_deliveries(app: FastAPI) -> bool:
    return await deliveries(app) == 0


async def test_an_inbox_that_keeps_failing_is_given_up_after_the_limit(
    fed_app: FastAPI, ap: httpx.AsyncClient, remote: RemoteServer
) -> None:
    user, _ = await followed_author(fed_app, ap, remote)
    federation_of(fed_app).sender.give_up_after = timedelta(0)
    remote.answers = [500]
    await ap.post("/api/posts", json={"title": "T", "content": "x"}, headers=bearer(fed_app, user))
    await until(lambda: received(remote, 1), "the first attempt")
    await until(lambda: _failed(fed_app), "the delivery given up")


async def _failed(app: FastAPI) -> bool:
    async with resources_of(app).database.session() as session:
        row = (await session.scalars(select(Delivery))).one_or_none()
    return row is not None and row.failed_at is not None and "500" in (row.last_error or "")


async def test_a_crashed_senders_deliveries_go_out_once_from_another_process(
    make_app: AppFactory, remote: RemoteServer
) -> None:
    """Host A claims a delivery and dies before sending (its lease stays); host B sends it
    once the lease lapses. Two hosts polling the same table never send one row twice."""
    common: dict[str, Any] = {
        "public_base_url": SITE,
        "federation_allow_private_addresses": True,
        "federation_poll_seconds": 3600,  # the test runs the passes itself
        "outbox_lease_seconds": 0.5,
        "allowed_hosts": ["blog.example"],
    }
    host_a = await make_app(**common)
    host_b = await make_app(**common)
    sender_a: DeliverySender = federation_of(host_a).sender
    sender_b: DeliverySender = federation_of(host_b).sender
    # The passes below are the test's: a publish wakes the hosts' own loops, which would
    # otherwise claim and send the row before host A's "crash" does.
    await sender_a.stop()
    await sender_b.stop()
    transport = asgi_transport(host_a)
    async with httpx.AsyncClient(transport=transport, base_url=SITE) as ap:
        user, _ = await followed_author(host_a, ap, remote)
        response = await ap.post(
            "/api/posts", json={"title": "Once", "content": "x"}, headers=bearer(host_a, user)
        )
        assert response.status_code == 201
    await until(lambda: _queued(host_a), "the delivery queued")
    # Host A claims it, then "crashes": the claim is written, nothing is sent.
    now = utcnow()
    claimed = await resources_of(host_a).database.write(
        QUEUE.claim, {"now": now, "lease_end": now + timedelta(seconds=0.5), "batch": 10}
    )
    assert len(claimed) == 1
    assert await sender_b.send_due() == 0  # leased to A
    await asyncio.sleep(0.6)
    # Both hosts try at once: one claims it, the other finds nothing.
    claims = await asyncio.gather(sender_a.send_due(), sender_b.send_due())
    assert sorted(claims) == [0, 1]
    assert len(remote.received) == 1
    assert await deliveries(host_a) == 0


async def _queued(app: FastAPI) -> bool:
    return await deliveries(app) == 1


async def test_nothing_is_sent_to_a_blocked_domain(
    fed_app: FastAPI, ap: httpx.AsyncClient, remote: RemoteServer
) -> None:
    user, _ = await followed_author(fed_app, ap, remote)
    forgotten = await block_domain(resources_of(fed_app).database, "127.0.0.1")
    assert forgotten == 2
    await ap.post("/api/posts", json={"title": "T", "content": "x"}, headers=bearer(fed_app, user))
    await asyncio.sleep(0.3)
    assert remote.received == []
    assert await deliveries(fed_app) == 0


async def test_a_scheduled_post_is_delivered_when_due_and_a_draft_never(
    fed_app: FastAPI, ap: httpx.AsyncClient, remote: RemoteServer
) -> None:
    user, _ = await followed_author(fed_app, ap, remote)
    auth = bearer(fed_app, user)
    later = (utcnow() + timedelta(days=1)).isoformat()
    scheduled = await ap.post(
        "/api/posts",
        json={"title": "Tomorrow", "content": "x", "published_at": later},
        headers=auth,
    )
    draft = await ap.post(
        "/api/posts", json={"title": "Draft", "content": "x", "status": "draft"}, headers=auth
    )
    assert scheduled.status_code == draft.status_code == 201
    state: dict[str, Any] = fed_app.state._test_lifespan_state
    watcher: PostVisibility = state["post_visibility"]
    assert await watcher.announce_due() == 0
    await due_now(resources_of(fed_app).database, [scheduled.json()["id"]])
    # This pass, or the watcher's own loop if it looked at that moment, announces it.
    assert await watcher.announce_due() in (0, 1)
    await until(lambda: received(remote, 1), "the Create delivered")
    await asyncio.sleep(0.3)
    assert [a["object"]["name"] for a in remote.activities()] == ["Tomorrow"]


async def test_posts_due_together_reach_only_their_own_authors_followers(
    fed_app: FastAPI, ap: httpx.AsyncClient, remote: RemoteServer
) -> None:
    """Four scheduled posts of a followed author and of one nobody follows, due at once:
    one pass announces all four; the followers get a Create for each of the followed
    author's posts, and nothing of the other's."""
    followed, _ = await followed_author(fed_app, ap, remote)
    async with resources_of(fed_app).database.transaction() as session:
        unfollowed = await make_user(session, username="quiet")
        await session.commit()
    later = (utcnow() + timedelta(days=1)).isoformat()
    ids = []
    for n in range(2):
        for author in (followed, unfollowed):
            response = await ap.post(
                "/api/posts",
                json={"title": f"{author.username} {n}", "content": "x", "published_at": later},
                headers=bearer(fed_app, author),
            )
            assert response.status_code == 201
            ids.append(response.json()["id"])
    state: dict[str, Any] = fed_app.state._test_lifespan_state
    watcher: PostVisibility = state["post_visibility"]
    await due_now(resources_of(fed_app).database, ids)
    assert await watcher.announce_due() in (0, 4)  # 0: the watcher's own loop was first
    await until(lambda: received(remote, 2), "the Creates delivered")
    await asyncio.sleep(0.3)
    names = [activity["object"]["name"] for activity in remote.activities()]
    assert sorted(names) == ["writer 0", "writer 1"]
