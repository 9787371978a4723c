"""Posts in review: a contributor submits, nobody else but editors sees the post anywhere (the
lists, the feeds, the sitemap, search, its page, the follow feed, tags), and an editor
publishes it; through the API and through the forms."""

import re

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from tests.accounts import bearer, browser, browser_login, submit
from tests.factories import make_user
from tests.html import read_page

pytestmark = pytest.mark.anyio

TITLE = "Zephyrous thoughts under review"  # a word search finds nowhere else


async def _world(app: FastAPI, session: AsyncSession) -> tuple[User, User, User, int]:
    await make_user(session, username="owner", role="owner")
    contributor = await make_user(session, username="cora", role="contributor")
    editor = await make_user(session, username="eddie", role="editor")
    reader = await make_user(session, username="rita", role="reader")
    return contributor, editor, reader, 0


async def _places(
    client: httpx.AsyncClient, headers: dict[str, str], post_id: int
) -> dict[str, str]:
    """Everything a reader (with `headers`: a token, or none) can read that might show it."""
    return {
        "api list": (await client.get("/api/posts", headers=headers)).text,
        "api post": str((await client.get(f"/api/posts/{post_id}", headers=headers)).status_code),
        "api user posts": (await client.get("/api/users/2/posts", headers=headers)).text,
        "api search": (await client.get("/api/search", params={"q": "zephyrous"})).text,
        "api tags": (await client.get("/api/tags")).text,
        "home": (await client.get("/")).text,
        "tag page": str((await client.get("/tags/secret")).status_code),
        "user page": (await client.get("/users/2/posts")).text,
        "post page": str((await client.get(f"/posts/{post_id}")).status_code),
        "atom": (await client.get("/feed.xml")).text,
        "user atom": (await client.get("/users/2/feed.xml")).text,
        "sitemap": (await client.get("/sitemaps/posts-1.xml")).text,
        "search page": (await client.get("/search", params={"q": "zephyrous"})).text,
    }


def _shown(places: dict[str, str]) -> set[str]:
    shown = {name for name, text in places.items() if TITLE in text or "secret" in text}
    if re.search(r"/posts/\d+/zephyrous", places["sitemap"]):
        shown.add("sitemap")
    for name in ("api post", "post page"):
        if places[name] not in ("404",):
            shown.add(name)
    if places["tag page"] != "404":
        shown.add("tag page")
    return shown


async def test_a_post_in_review_is_shown_nowhere_until_an_editor_publishes_it(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    contributor, editor, reader, _ = await _world(app, session)
    submitted = await client.post(
        "/api/posts",
        json={
            "title": TITLE,
            "content": "Zephyrous words.",
            "tags": ["secret"],
            "status": "review",
        },
        headers=bearer(app, contributor),
    )
    assert submitted.status_code == 201, submitted.text
    post = submitted.json()
    assert (post["status"], post["published_at"]) == ("review", None)

    for who in ({}, bearer(app, reader)):
        assert _shown(await _places(client, who, post["id"])) == set()
    # Its author and an editor can read it.
    for who in (contributor, editor):
        seen = await client.get(f"/api/posts/{post['id']}", headers=bearer(app, who))
        assert seen.status_code == 200
        assert seen.json()["status"] == "review"

    # The contributor may change it, but not publish it.
    edited = await client.patch(
        f"/api/posts/{post['id']}",
        json={"content": "Better words."},
        headers=bearer(app, contributor),
    )
    assert (edited.status_code, edited.json()["status"]) == (200, "review")
    published = await client.patch(
        f"/api/posts/{post['id']}", json={"status": "published"}, headers=bearer(app, contributor)
    )
    assert published.status_code == 403
    assert published.json()["detail"].startswith("Contributors cannot publish")

    approved = await client.patch(
        f"/api/posts/{post['id']}", json={"status": "published"}, headers=bearer(app, editor)
    )
    assert approved.status_code == 200
    assert approved.json()["status"] == "published"
    assert approved.json()["user_id"] == contributor.id  # still the contributor's post
    assert _shown(await _places(client, {}, post["id"])) == {
        "api list",
        "api post",
        "api user posts",
        "api search",
        "api tags",
        "home",
        "tag page",
        "user page",
        "post page",
        "atom",
        "user atom",
        "sitemap",
        "search page",
    }


async def test_the_forms_offer_a_contributor_submit_for_review_and_an_editor_publish(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    contributor, editor, _, _ = await _world(app, session)
    await browser_login(client, contributor)

    form = await client.get("/posts/new")
    buttons = re.findall(r'<button[^>]*value="(\w+)"[^>]*>([^<]+)</button>', form.text)
    assert ("review", "Submit for review") in buttons
    assert not [label for value, label in buttons if value == "publish"]
    assert "Publish at" not in form.text

    crafted = await submit(
        client, "/posts/new", {"title": "x", "content": "y", "action": "publish"}
    )
    assert crafted.status_code == 403
    sent = await submit(
        client, "/posts/new", {"title": TITLE, "content": "Words.", "tags": "", "action": "review"}
    )
    assert sent.status_code == 303
    shown = await client.get(sent.headers["location"])
    assert "Your post is submitted for review: an editor will publish it." in shown.text
    drafts = read_page(await client.get("/drafts")).text
    assert "In review" in drafts
    post_id = int(re.findall(r"/posts/(\d+)/", sent.headers["location"])[0])

    async with browser(app) as editors_browser:
        await browser_login(editors_browser, editor)
        queue = await editors_browser.get("/drafts")
        assert "Waiting for review" in queue.text
        assert TITLE in queue.text
        page = await editors_browser.get(f"/posts/{post_id}/edit")
        assert page.status_code == 200
        assert 'value="publish">Publish</button>' in page.text
        published = await submit(
            editors_browser,
            f"/posts/{post_id}/edit",
            {
                "title": TITLE,
                "content": "Words.",
                "tags": "",
                "published_at": "",
                "action": "publish",
            },
        )
        assert published.status_code == 303

    listed = (await client.get("/api/posts")).json()["posts"]
    assert [(post["title"], post["author"]["username"]) for post in listed] == [(TITLE, "cora")]
