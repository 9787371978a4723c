"""The pages: a like button on posts, follow buttons and counts on author pages, the feed with
its empty state, and the header's Feed link; every button is a form that needs no script."""

from dataclasses import dataclass, field
from html.parser import HTMLParser

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.accounts import browser, browser_login, submit
from tests.asgi import resources_of
from tests.factories import make_posts, make_user
from tests.html import read_page

pytestmark = pytest.mark.anyio


@dataclass
class Form:
    action: str
    method: str
    buttons: list[str] = field(default_factory=list)
    hidden: dict[str, str] = field(default_factory=dict)


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._button: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(Form(attributes.get("action", ""), attributes.get("method", "")))
        elif tag == "input" and attributes.get("type") == "hidden" and self.forms:
            self.forms[-1].hidden[attributes.get("name", "")] = attributes.get("value", "")
        elif tag == "button":
            self._button = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "button" and self._button is not None and self.forms:
            self.forms[-1].buttons.append(" ".join("".join(self._button).split()))
            self._button = None

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._button.append(data)


def forms_of(response: httpx.Response) -> dict[str, Form]:
    """The page's forms by action."""
    reader = _Forms()
    reader.feed(response.text)
    return {form.action: form for form in reader.forms}


async def test_a_reader_likes_a_post_from_its_page_and_takes_it_back(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session, username="author")
    reader = await make_user(session, username="reader")
    (post,) = await make_posts(session, author, 1)
    url = f"/posts/{post.id}/{post.slug}"
    anonymous = await client.get(url)
    assert "0 likes" in read_page(anonymous).text
    assert read_page(anonymous).has_link("Log in to like it")
    assert f"/posts/{post.id}/like" not in forms_of(anonymous)

    await browser_login(client, reader)
    before = await client.get(url)
    assert forms_of(before)[f"/posts/{post.id}/like"].buttons == ["Like"]
    assert forms_of(before)[f"/posts/{post.id}/like"].method == "post"

    liked = await submit(client, f"/posts/{post.id}/like")
    assert liked.headers["location"] == f"{url}#likes"
    after = await client.get(url)
    assert "1 like" in read_page(after).text
    assert forms_of(after)[f"/posts/{post.id}/unlike"].buttons == ["Unlike"]
    assert "1 like" in read_page(await client.get("/")).text  # lists show the count too

    await submit(client, f"/posts/{post.id}/unlike")
    assert "0 likes" in read_page(await client.get(url)).text


async def test_an_author_page_has_a_follow_button_and_follower_counts(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session, username="author")
    reader = await make_user(session, username="reader")
    await make_posts(session, author, 2)
    url = f"/users/{author.id}/posts"
    assert "0 followers" in read_page(await client.get(url)).text
    assert f"/users/{author.id}/follow" not in forms_of(await client.get(url))

    await browser_login(client, reader)
    form = forms_of(await client.get(url))[f"/users/{author.id}/follow"]
    assert form.buttons == ["Follow author"]
    response = await submit(client, form.action, {"next": form.hidden["next"]})

    assert response.headers["location"] == url
    page = await client.get(url)
    assert "1 follower" in read_page(page).text
    assert forms_of(page)[f"/users/{author.id}/unfollow"].buttons == ["Unfollow author"]
    own_page = await client.get(f"/users/{reader.id}/posts")
    assert "1 following" in read_page(own_page).text
    assert not any("follow" in action for action in forms_of(own_page))  # not yourself


async def test_the_feed_suggests_authors_then_shows_their_posts(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    busy = await make_user(session, username="busy")
    quiet = await make_user(session, username="quiet<b>")
    await make_user(session, username="silent")  # no posts: not suggested
    reader = await make_user(session, username="reader")
    await make_posts(session, busy, 3)
    await make_posts(session, quiet, 1)
    await browser_login(client, reader)

    home = read_page(await client.get("/"))
    assert home.link("Feed").href == "/feed"
    empty = await client.get("/feed")
    page = read_page(empty)
    assert "Nothing to read yet" in page.text
    assert [link.text for link in page.links if link.path.startswith("/users/")] == [
        "busy",
        "quiet<b>",
    ]
    assert "3 posts · 0 followers" in page.text
    form = forms_of(empty)[f"/users/{busy.id}/follow"]
    assert form.hidden["next"] == "/feed"

    followed = await submit(client, form.action, {"next": form.hidden["next"]})

    assert followed.headers["location"] == "/feed"
    feed = read_page(await client.get("/feed"))
    assert [link.text for link in feed.links if link.text.startswith("Post ")] == [
        "Post 3 by busy",
        "Post 2 by busy",
        "Post 1 by busy",
    ]
    assert "Nothing to read yet" not in feed.text


async def test_the_feed_pages_on_with_a_cursor(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session, username="author")
    reader = await make_user(session, username="reader")
    per_page = resources_of(app).settings.posts_per_page
    await make_posts(session, author, per_page + 2)
    async with browser(app) as visitor:
        await browser_login(visitor, reader)
        await submit(visitor, f"/users/{author.id}/follow")
        first = read_page(await visitor.get("/feed"))
        older = first.link("Older posts →")
        second = read_page(await visitor.get(older.href))
        bad = await visitor.get("/feed?cursor=nonsense")

    assert sum(link.text.startswith("Post ") for link in first.links) == per_page
    assert [link.text for link in second.links if link.text.startswith("Post ")] == [
        "Post 2 by author",
        "Post 1 by author",
    ]
    assert not second.has_link("Older posts →")
    assert bad.status_code == 422
