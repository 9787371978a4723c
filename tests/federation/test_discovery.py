"""Being found: WebFinger, NodeInfo, the Person at the author page's address, the outbox,
each post as an Article at its own address, the followers' count."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from fastblog.federation.models import ActorKey
from fastblog.posts.models import Post
from tests.asgi import asgi_transport, resources_of
from tests.factories import make_posts, make_user
from tests.federation.conftest import ACTIVITY_JSON, SITE

pytestmark = pytest.mark.anyio

LD_JSON = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


async def author(app: FastAPI, posts: int = 0, **values: Any) -> tuple[int, list[Post]]:
    async with resources_of(app).database.transaction() as session:
        user = await make_user(session, username="writer", **values)
        made = await make_posts(session, user, posts) if posts else []
    return user.id, made


async def test_webfinger_finds_an_author_by_acct_and_by_page_address(
    fed_app: FastAPI, ap: httpx.AsyncClient
) -> None:
    user_id, _ = await author(fed_app)
    actor = f"{SITE}/users/{user_id}/posts"
    for resource in ("acct:writer@blog.example", "acct:WRITER@blog.example", actor):
        response = await ap.get("/.well-known/webfinger", params={"resource": resource})
        assert response.status_code == 200, resource
        assert response.headers["content-type"].startswith("application/jrd+json")
        jrd = response.json()
        assert jrd["subject"] == "acct:writer@blog.example"
        (self_link,) = [link for link in jrd["links"] if link["rel"] == "self"]
        assert self_link == {"rel": "self", "type": ACTIVITY_JSON, "href": actor}
    for unknown in ("acct:nobody@blog.example", "acct:writer@elsewhere.example"):
        response = await ap.get("/.well-known/webfinger", params={"resource": unknown})
        assert response.status_code == 404
        assert unknown in response.json()["detail"]


async def test_nodeinfo_says_what_this_server_is(fed_app: FastAPI, ap: httpx.AsyncClient) -> None:
    await author(fed_app, posts=2)
    links = (await ap.get("/.well-known/nodeinfo")).json()["links"]
    assert links[0]["href"] == f"{SITE}/nodeinfo/2.1"
    info = (await ap.get("/nodeinfo/2.1")).json()
    assert info["version"] == "2.1"
    assert info["software"]["name"] == "fastblog"
    assert info["protocols"] == ["activitypub"]
    assert info["usage"] == {"users": {"total": 1}, "localPosts": 2}


async def test_the_author_page_is_a_person_to_activitypub_and_a_page_to_browsers(
    fed_app: FastAPI, ap: httpx.AsyncClient
) -> None:
    user_id, _ = await author(fed_app, bio="Writes <b>things</b>")
    actor = f"{SITE}/users/{user_id}/posts"
    first = await ap.get(f"/users/{user_id}/posts", headers={"Accept": ACTIVITY_JSON})
    assert first.status_code == 200
    assert first.headers["content-type"].startswith(ACTIVITY_JSON)
    person = first.json()
    assert person["type"] == "Person"
    assert person["id"] == actor
    assert person["preferredUsername"] == "writer"
    assert person["inbox"] == f"{SITE}/ap/users/{user_id}/inbox"
    assert person["outbox"] == f"{SITE}/ap/users/{user_id}/outbox"
    assert person["followers"] == f"{SITE}/ap/users/{user_id}/followers"
    assert person["endpoints"]["sharedInbox"] == f"{SITE}/ap/inbox"
    assert person["publicKey"]["id"] == f"{actor}#main-key"
    assert person["publicKey"]["owner"] == actor
    assert person["publicKey"]["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert person["icon"]["url"].startswith(SITE)
    # The key is made once and kept.
    again = (await ap.get(f"/users/{user_id}/posts", headers={"Accept": LD_JSON})).json()
    assert again["publicKey"] == person["publicKey"]
    async with resources_of(fed_app).database.session() as session:
        assert len((await session.scalars(select(ActorKey))).all()) == 1
    page = await ap.get(f"/users/{user_id}/posts", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    missing = await ap.get("/users/999999/posts", headers={"Accept": ACTIVITY_JSON})
    assert missing.status_code == 404


async def test_the_outbox_pages_through_create_activities_of_articles(
    fed_app: FastAPI, ap: httpx.AsyncClient
) -> None:
    user_id, posts = await author(fed_app, posts=23)
    outbox = (await ap.get(f"/ap/users/{user_id}/outbox")).json()
    assert outbox["type"] == "OrderedCollection"
    assert outbox["totalItems"] == 23
    first = (await ap.get(outbox["first"].removeprefix(SITE))).json()
    assert first["type"] == "OrderedCollectionPage"
    assert len(first["orderedItems"]) == 20
    second = (await ap.get(first["next"].removeprefix(SITE))).json()
    assert len(second["orderedItems"]) == 3
    assert "next" not in second
    ids = [item["object"]["id"] for item in first["orderedItems"] + second["orderedItems"]]
    assert sorted(ids) == sorted(f"{SITE}/posts/{post.id}" for post in posts)
    create = first["orderedItems"][0]
    assert create["type"] == "Create"
    article = create["object"]
    assert article["type"] == "Article"
    assert article["attributedTo"] == f"{SITE}/users/{user_id}/posts"
    assert article["to"] == ["https://www.w3.org/ns/activitystreams#Public"]
    assert article["cc"] == [f"{SITE}/ap/users/{user_id}/followers"]
    for name in ("name", "content", "summary", "url", "published", "updated", "tag"):
        assert name in article


async def test_a_post_answers_with_its_article_at_its_id(
    fed_app: FastAPI, ap: httpx.AsyncClient
) -> None:
    _, (post,) = await author(fed_app, posts=1)
    for path in (f"/posts/{post.id}", f"/posts/{post.id}/{post.slug}"):
        response = await ap.get(path, headers={"Accept": ACTIVITY_JSON})
        assert response.status_code == 200
        article = response.json()
        assert article["id"] == f"{SITE}/posts/{post.id}"
        assert article["name"] == post.title
        assert article["url"] == f"{SITE}/posts/{post.id}/{post.slug}"
    page = await ap.get(f"/posts/{post.id}/{post.slug}")
    assert page.headers["content-type"].startswith("text/html")
    missing = await ap.get("/posts/999999", headers={"Accept": ACTIVITY_JSON})
    assert missing.status_code == 404


async def test_followers_are_counted(fed_app: FastAPI, ap: httpx.AsyncClient) -> None:
    user_id, _ = await author(fed_app)
    followers = (await ap.get(f"/ap/users/{user_id}/followers")).json()
    assert followers["type"] == "OrderedCollection"
    assert followers["totalItems"] == 0


async def test_without_a_public_address_nothing_is_federated(make_app: Any) -> None:
    app = await make_app()
    async with httpx.AsyncClient(
        transport=asgi_transport(app),
        base_url="http://testserver",
    ) as client:
        response = await client.get(
            "/.well-known/webfinger", params={"resource": "acct:a@testserver"}
        )
        assert response.status_code == 404
