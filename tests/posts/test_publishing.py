"""Drafts, scheduled posts, tags, slugs and the edited marker, through the API and the pages."""

import asyncio
import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.posts.models import DRAFT, Post
from tests.accounts import browser, browser_login, submit
from tests.factories import api_create_post, api_created_post, login, make_user
from tests.html import read_page

pytestmark = pytest.mark.anyio


def ids(response: httpx.Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [post["id"] for post in response.json()["posts"]]


async def total(client: httpx.AsyncClient, url: str = "/api/posts") -> int:
    response = await client.get(url)
    assert response.status_code == 200
    value: int = response.json()["total"]
    return value


async def move_publication(session: AsyncSession, post_id: int, when: datetime) -> None:
    """Time passes: the scheduled moment is now in the past (or the future)."""
    await session.execute(update(Post).where(Post.id == post_id).values(published_at=when))
    await session.commit()


async def test_a_draft_is_seen_by_its_author_only(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    other = await make_user(session)
    draft = await api_created_post(client, author, title="Secret plans", status="draft")
    assert (draft["status"], draft["published_at"]) == ("draft", None)

    assert (await client.get(f"/api/posts/{draft['id']}")).status_code == 404
    as_other = await client.get(f"/api/posts/{draft['id']}", headers=await login(client, other))
    assert as_other.status_code == 404
    as_author = await client.get(f"/api/posts/{draft['id']}", headers=await login(client, author))
    assert as_author.json()["title"] == "Secret plans"
    assert ids(await client.get("/api/posts")) == []
    assert ids(await client.get(f"/api/users/{author.id}/posts")) == []
    assert await total(client) == 0

    # Pages: a plain 404 for anyone else, with no redirect that would reveal the title.
    for path in (f"/posts/{draft['id']}", f"/posts/{draft['id']}/secret-plans"):
        response = await client.get(path)
        assert response.status_code == 404
        assert "location" not in response.headers
        assert "Secret plans" not in response.text
    async with browser(app) as author_browser:
        await browser_login(author_browser, author)
        shown = await author_browser.get(f"/posts/{draft['id']}", follow_redirects=True)
        assert shown.status_code == 200
        assert "Secret plans" in read_page(shown).text
        drafts = read_page(await author_browser.get("/drafts"))
        assert drafts.link("Secret plans").path == f"/posts/{draft['id']}/secret-plans"
        assert read_page(await author_browser.get("/")).has_link("Drafts")


async def test_publishing_a_draft_and_taking_it_back(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    draft = await api_created_post(client, author, status="draft")
    headers = await login(client, author)
    before = datetime.now(UTC)

    published = await client.patch(
        f"/api/posts/{draft['id']}", json={"status": "published"}, headers=headers
    )

    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published"
    assert datetime.fromisoformat(published.json()["published_at"]) >= before
    assert ids(await client.get("/api/posts")) == [draft["id"]]
    assert await total(client) == 1

    back = await client.patch(
        f"/api/posts/{draft['id']}", json={"status": "draft"}, headers=headers
    )

    assert (back.json()["status"], back.json()["published_at"]) == ("draft", None)
    assert ids(await client.get("/api/posts")) == []
    assert await total(client) == 0


async def test_a_scheduled_post_appears_when_its_time_comes(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    now_post = await api_created_post(client, author, title="Now")
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    later = await api_created_post(client, author, title="Later", published_at=tomorrow.isoformat())
    assert datetime.fromisoformat(later["published_at"]) == tomorrow

    assert ids(await client.get("/api/posts")) == [now_post["id"]]
    assert await total(client) == 1
    assert (await client.get(f"/api/posts/{later['id']}")).status_code == 404
    assert (await client.get(f"/posts/{later['id']}/later")).status_code == 404

    await move_publication(session, later["id"], datetime.now(UTC))

    assert ids(await client.get("/api/posts")) == [later["id"], now_post["id"]]
    assert await total(client) == 2
    assert (await client.get(f"/posts/{later['id']}/later")).status_code == 200


async def test_a_draft_cannot_have_a_publication_date(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)

    response = await api_create_post(
        client, author, status="draft", published_at="2030-01-01T00:00:00Z"
    )

    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["body", "published_at"]]


@pytest.mark.parametrize("when", ["2030-01-01T00:00:00", "0001-01-01T00:00:00+05:00", "not a date"])
async def test_a_publication_date_must_be_a_real_moment(
    client: httpx.AsyncClient, session: AsyncSession, when: str
) -> None:
    response = await api_create_post(client, await make_user(session), published_at=when)

    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["body", "published_at"]]


async def test_tags_are_normalized_shown_and_filtered(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ada = await make_user(session, username="ada")
    bob = await make_user(session, username="bob")
    first = await api_created_post(
        client, ada, title="First", tags=["Python", " Machine Learning "]
    )
    second = await api_created_post(client, bob, title="Second", tags=["python"])
    await api_created_post(client, bob, title="Untagged")
    await api_created_post(client, bob, title="Hidden", tags=["python", "secret"], status="draft")

    assert first["tags"] == ["machine-learning", "python"]
    assert ids(await client.get("/api/posts", params={"tag": "python"})) == [
        second["id"],
        first["id"],
    ]
    assert ids(await client.get("/api/posts", params={"tag": "Machine Learning"})) == [first["id"]]
    assert ids(await client.get("/api/posts", params={"tag": "secret"})) == []
    assert ids(await client.get("/api/posts", params={"tag": "no such!"})) == []
    assert await total(client, "/api/posts?tag=python") == 2
    assert ids(await client.get(f"/api/users/{bob.id}/posts", params={"tag": "python"})) == [
        second["id"]
    ]
    assert (await client.get("/api/tags")).json() == {
        "tags": [{"name": "python", "posts": 2}, {"name": "machine-learning", "posts": 1}]
    }

    page = read_page(await client.get("/tags/python"))
    assert [link.text for link in page.links if link.text in ("First", "Second")] == [
        "Second",
        "First",
    ]
    assert page.link("#machine-learning").path == "/tags/machine-learning"
    home = read_page(await client.get("/"))
    assert home.has_link("#python")
    filtered = read_page(await client.get("/", params={"tag": "machine-learning"}))
    assert filtered.has_link("First")
    assert not filtered.has_link("Second")
    assert (await client.get("/tags/secret")).status_code == 404
    assert (await client.get("/tags/nothing-here")).status_code == 404
    moved = await client.get("/tags/Python")
    assert (moved.status_code, moved.headers["location"]) == (301, "/tags/python")


async def test_tags_in_any_script(client: httpx.AsyncClient, session: AsyncSession) -> None:
    post = await api_created_post(client, await make_user(session), tags=["日本語", "Ελληνικά"])

    assert post["tags"] == ["ελληνικά", "日本語"]
    page = await client.get("/tags/日本語")
    assert page.status_code == 200
    assert read_page(page).has_link(post["title"])
    # The tag links of a list's card and of the post's page: quoted, to the tag's page.
    for shown_on in ("/", f"/posts/{post['id']}/{post['slug']}"):
        link = read_page(await client.get(shown_on)).link("#日本語")
        assert link.href == "/tags/%E6%97%A5%E6%9C%AC%E8%AA%9E"
        assert (await client.get(link.href)).status_code == 200


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        ([f"tag{n}" for n in range(6)], "at most 5 tags"),
        (["has space_and_underscore"], "only letters, digits and '-'"),
        (["x" * 31], "at most 30 characters"),
    ],
)
async def test_bad_tags_are_a_422_on_the_tags_field(
    client: httpx.AsyncClient, session: AsyncSession, tags: list[str], message: str
) -> None:
    response = await api_create_post(client, await make_user(session), tags=tags)

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "tags"]
    assert message in error["msg"]
    assert await total(client) == 0


async def test_put_and_patch_change_tags(client: httpx.AsyncClient, session: AsyncSession) -> None:
    author = await make_user(session)
    post = await api_created_post(client, author, tags=["one", "two"])
    headers = await login(client, author)
    url = f"/api/posts/{post['id']}"

    patched = await client.patch(url, json={"tags": ["three"]}, headers=headers)
    assert patched.json()["tags"] == ["three"]
    untouched = await client.patch(url, json={"title": "New title"}, headers=headers)
    assert untouched.json()["tags"] == ["three"]
    replaced = await client.put(url, json={"title": "t", "content": "c"}, headers=headers)
    assert replaced.json()["tags"] == []
    assert replaced.json()["published_at"] == post["published_at"]  # still published as it was
    assert (await client.get("/api/tags")).json() == {"tags": []}


async def test_the_canonical_page_has_the_slug_and_old_addresses_move_there(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    post = await api_created_post(client, author, title="Привет, мир")
    assert post["slug"] == "privet-mir"
    canonical = f"/posts/{post['id']}/privet-mir"

    for old in (f"/posts/{post['id']}", f"/posts/{post['id']}/stale-slug"):
        response = await client.get(old)
        assert (response.status_code, response.headers["location"]) == (301, canonical)
    assert (await client.get(canonical)).status_code == 200

    headers = await login(client, author)
    renamed = await client.patch(
        f"/api/posts/{post['id']}", json={"title": "Hello"}, headers=headers
    )
    assert renamed.json()["slug"] == "hello"
    response = await client.get(canonical)
    assert (response.status_code, response.headers["location"]) == (
        301,
        f"/posts/{post['id']}/hello",
    )


async def test_edited_shows_once_title_or_content_change_after_publication(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    post = await api_created_post(client, author, title="Fresh", content="Words.")
    headers = await login(client, author)
    url = f"/api/posts/{post['id']}"
    page_url = f"/posts/{post['id']}/fresh"
    assert "edited" not in read_page(await client.get(page_url)).text

    tagged = await client.patch(url, json={"tags": ["news"]}, headers=headers)
    assert tagged.json()["updated_at"] == post["updated_at"]  # tags are not an edit
    assert "edited" not in read_page(await client.get(page_url)).text

    edited = await client.patch(url, json={"content": "Better words."}, headers=headers)
    assert edited.json()["updated_at"] > post["updated_at"]
    assert edited.json()["content_html"] == "<p>Better words.</p>\n"
    assert "edited" in read_page(await client.get(page_url)).text

    draft = await api_created_post(client, author, title="Draft", status="draft")
    await client.patch(f"/api/posts/{draft['id']}", json={"content": "More."}, headers=headers)
    await client.patch(f"/api/posts/{draft['id']}", json={"status": "published"}, headers=headers)
    assert "edited" not in read_page(await client.get(f"/posts/{draft['id']}/draft")).text


async def test_someone_elses_draft_cannot_be_changed_or_deleted_and_is_not_revealed(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    draft = await api_created_post(client, author, status="draft")
    headers = await login(client, await make_user(session))

    for method, body in (("PATCH", {"title": "x"}), ("PUT", {"title": "x", "content": "y"})):
        response = await client.request(
            method, f"/api/posts/{draft['id']}", json=body, headers=headers
        )
        assert response.status_code == 404
    assert (await client.delete(f"/api/posts/{draft['id']}", headers=headers)).status_code == 404


async def test_an_invalid_token_on_a_read_is_a_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/posts/1", headers={"Authorization": "Bearer nonsense"})

    assert response.status_code == 401


async def test_the_form_says_markdown_works_and_previews_without_saving(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    await browser_login(client, author)

    form = read_page(await client.get("/posts/new"))
    assert "Markdown works" in form.text

    preview = await submit(
        client,
        "/posts/new",
        {"title": "Try", "content": "Some **bold**\n\n```python\nx = 1\n```", "action": "preview"},
    )

    assert preview.status_code == 200
    assert "<strong>bold</strong>" in preview.text
    assert 'class="highlight"' in preview.text
    assert 'value="Try"' in preview.text  # the form comes back filled in
    assert await total(client) == 0
    assert (await client.get("/drafts")).text.count("Try") == 0


async def test_the_form_saves_a_draft_with_tags_then_publishes_it(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    await browser_login(client, author)

    saved = await submit(
        client,
        "/posts/new",
        {"title": "By form", "content": "Text", "tags": "Python, web dev", "action": "draft"},
    )

    assert saved.status_code == 303
    post = (await client.get("/api/posts/1", headers=await login(client, author))).json()
    assert (post["status"], post["tags"]) == ("draft", ["python", "web-dev"])
    assert await total(client) == 0
    published = await submit(
        client,
        f"/posts/{post['id']}/edit",
        {"title": "By form", "content": "Text", "tags": "python", "action": "publish"},
    )
    assert published.status_code == 303
    assert published.headers["location"] == f"/posts/{post['id']}/by-form"
    assert await total(client) == 1
    assert ids(await client.get("/api/posts", params={"tag": "python"})) == [post["id"]]


async def test_the_draft_message_says_who_can_see_it_and_it_is_so(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    editor = await make_user(session, role="editor")
    other = await make_user(session)
    await browser_login(client, author)

    saved = await submit(
        client, "/posts/new", {"title": "Half done", "content": "Text", "action": "draft"}
    )

    shown = read_page(await client.get(saved.headers["location"]))
    assert "Your draft is saved. Only you and the site's editors can see it." in shown.text
    path = saved.headers["location"]
    post_id = path.split("/")[2]
    for viewer, status in ((editor, 200), (other, 404)):
        async with browser(app) as viewer_browser:
            await browser_login(viewer_browser, viewer)
            response = await viewer_browser.get(path, follow_redirects=True)
            assert response.status_code == status, viewer.role
            assert ("Half done" in response.text) is (status == 200)
        # The API with a token says the same: the editor reads it, another author cannot.
        read = await client.get(f"/api/posts/{post_id}", headers=await login(client, viewer))
        assert read.status_code == status, viewer.role
        assert (read.json().get("title") == "Half done") is (status == 200)


async def test_the_form_refuses_bad_tags_beside_the_field(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await browser_login(client, await make_user(session))

    response = await submit(
        client, "/posts/new", {"title": "t", "content": "c", "tags": "a,b,c,d,e,f"}
    )

    assert response.status_code == 422
    assert "A post has at most 5 tags." in read_page(response).text


async def test_writers_adding_the_same_new_tag_at_once_all_succeed(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    authors = [await make_user(session) for _ in range(4)]

    responses = await asyncio.gather(
        *(
            api_create_post(client, author, tags=["brand-new", f"own{n}"])
            for n, author in enumerate(authors)
        )
    )

    assert [response.status_code for response in responses] == [201] * 4
    assert (await client.get("/api/tags", params={"limit": 1})).json() == {
        "tags": [{"name": "brand-new", "posts": 4}]
    }


TITLE = re.compile(r'class="post-title"><a href="[^"]+">([^<]+)</a>')


async def waiting_for_review(app: FastAPI, session: AsyncSession) -> str:
    """What an editor's /drafts shows under "Waiting for review" (the heading must be there)."""
    async with browser(app) as editors_browser:
        await browser_login(
            editors_browser, await make_user(session, username="eddie", role="editor")
        )
        queue = await editors_browser.get("/drafts")
    assert queue.status_code == 200
    _, heading, waiting = queue.text.partition('id="review">Waiting for review</h2>')
    assert heading
    return waiting


async def test_editors_see_the_posts_waiting_for_review_longest_waiting_first(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """The editors' queue on /drafts: drafts submitted for review, by whom, the longest
    waiting first; never a plain draft or a published post, and only for editors."""
    cora = await make_user(session, username="cora", role="contributor")
    carl = await make_user(session, username="carl", role="contributor")
    now = datetime.now(UTC)
    session.add_all(
        [
            Post(title="Sent second", content="x", user_id=cora.id, status=DRAFT,
                 submitted_at=now - timedelta(hours=1)),
            Post(title="Sent first", content="x", user_id=carl.id, status=DRAFT,
                 submitted_at=now - timedelta(hours=2)),
            Post(title="Not sent yet", content="x", user_id=cora.id, status=DRAFT),
            Post(title="Out already", content="x", user_id=carl.id),
        ]
    )  # fmt: skip
    await session.commit()

    waiting = await waiting_for_review(app, session)

    assert TITLE.findall(waiting) == ["Sent first", "Sent second"]
    assert re.findall(r'by <a href="/users/\d+/posts">(\w+)</a>', waiting) == ["carl", "cora"]
    await browser_login(client, cora)
    own = read_page(await client.get("/drafts")).text
    assert "Waiting for review" not in own
    assert "Not sent yet" in own


async def test_the_review_queue_shows_the_fifty_longest_waiting(
    app: FastAPI, session: AsyncSession
) -> None:
    """At most 50 posts in review on /drafts: the longest waiting; the next one shows once
    one of those is published or sent back."""
    cora = await make_user(session, username="cora", role="contributor")
    now = datetime.now(UTC)
    session.add_all(
        Post(title=f"Sent {n}", content="x", user_id=cora.id, status=DRAFT,
             submitted_at=now - timedelta(minutes=100 - n))
        for n in range(1, 52)
    )  # fmt: skip
    await session.commit()

    waiting = await waiting_for_review(app, session)

    assert TITLE.findall(waiting) == [f"Sent {n}" for n in range(1, 51)]


async def test_a_post_sent_for_review_is_answered_as_in_review(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """What the contributor is told on writing it (no tags: the one-statement INSERT), and
    what they read back."""
    cora = await make_user(session, username="cora", role="contributor")
    headers = await login(client, cora)

    created = await client.post(
        "/api/posts",
        json={"title": "For review", "content": "x", "status": "review"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    read_back = await client.get(f"/api/posts/{created.json()['id']}", headers=headers)

    assert created.json()["status"] == "review"
    assert read_back.json()["status"] == "review"
