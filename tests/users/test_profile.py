"""Author profiles: a Markdown-lite bio (sanitized, checked by parsing the pages) and an
http(s) website, set through PATCH /api/users/me and the account page, shown on the author's
page and under each of their articles."""

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from tests.accounts import browser_login, read_form, submit
from tests.comments.helpers import parse
from tests.factories import login, make_posts, make_user
from tests.html import read_page

pytestmark = pytest.mark.anyio

HOSTILE_BIO = (
    'Writes **async** code. <script>alert("bio")</script> '
    "[site](javascript:alert(1)) <img src=x onerror=alert(2)> https://example.com/about"
)


@pytest.fixture
async def author(session: AsyncSession) -> User:
    return await make_user(session, username="corey")


async def patch_me(client: httpx.AsyncClient, user: User, **fields: object) -> httpx.Response:
    return await client.patch("/api/users/me", json=fields, headers=await login(client, user))


def bio_of(html: str) -> str:
    """The first bio block of a page, as served."""
    return html.split('<div class="bio">', 1)[1].split("</div>", 1)[0]


async def test_bio_and_website_are_set_and_shown_in_the_user_json(
    client: httpx.AsyncClient, author: User
) -> None:
    response = await patch_me(
        client, author, bio="I write about *async* Python.", website="https://corey.example"
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["bio"] == "I write about *async* Python."
    assert body["bio_html"] == "<p>I write about <em>async</em> Python.</p>\n"
    assert body["website"] == "https://corey.example"
    assert body["username"] == "corey"  # untouched
    public = (await client.get(f"/api/users/{author.id}")).json()
    assert (public["bio_html"], public["website"]) == (body["bio_html"], body["website"])
    assert "email" not in public


async def test_empty_values_clear_bio_and_website(client: httpx.AsyncClient, author: User) -> None:
    await patch_me(client, author, bio="Hello", website="http://corey.example")

    cleared = (await patch_me(client, author, bio="", website="")).json()

    assert (cleared["bio"], cleared["bio_html"], cleared["website"]) == (None, None, None)


@pytest.mark.parametrize(
    "website",
    [
        "javascript:alert(1)",
        "ftp://files.example",
        "corey.example",
        "https://",
        "data:text/html,<b>x</b>",
        "https://exa mple.com",
    ],
)
async def test_a_website_must_be_http_or_https(
    client: httpx.AsyncClient, author: User, website: str
) -> None:
    response = await patch_me(client, author, website=website)

    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "website"]
    assert "http://" in error["msg"] or "spaces" in error["msg"]
    assert (await client.get(f"/api/users/{author.id}")).json()["website"] is None


async def test_a_bio_is_at_most_500_characters(client: httpx.AsyncClient, author: User) -> None:
    assert (await patch_me(client, author, bio="x" * 500)).status_code == 200

    too_long = await patch_me(client, author, bio="x" * 501)

    assert too_long.status_code == 422
    assert too_long.json()["detail"][0]["loc"] == ["body", "bio"]


async def test_a_hostile_bio_is_sanitized_on_the_author_page_and_under_articles(
    client: httpx.AsyncClient, session: AsyncSession, author: User
) -> None:
    (post,) = await make_posts(session, author, 1)
    assert (await patch_me(client, author, bio=HOSTILE_BIO)).status_code == 200

    for url in (f"/users/{author.id}/posts", f"/posts/{post.id}/{post.slug}"):
        response = await client.get(url)
        markup = parse(bio_of(response.text))
        assert set(markup.tags) <= {"p", "a", "em", "strong", "code", "br"}, url
        assert "strong" in markup.tags
        assert markup.hrefs() == ["https://example.com/about"], url
        for tag, attributes in markup.attributes:
            assert not [name for name in attributes if name.startswith("on")], (url, tag)
        assert '<script>alert("bio")</script>' in markup.text  # shown as text
        links = [a for t, a in markup.attributes if t == "a"]
        assert all("nofollow" in a["rel"] for a in links)


async def test_the_website_is_linked_under_each_article(
    client: httpx.AsyncClient, session: AsyncSession, author: User
) -> None:
    (post,) = await make_posts(session, author, 1)
    await patch_me(client, author, website='https://corey.example/?a=1&b="2"')

    for url in (f"/posts/{post.id}/{post.slug}", f"/users/{author.id}/posts"):
        page = read_page(await client.get(url))
        link = page.link('https://corey.example/?a=1&b="2"')
        assert link.href == 'https://corey.example/?a=1&b="2"'


async def test_no_profile_no_author_box(
    client: httpx.AsyncClient, session: AsyncSession, author: User
) -> None:
    (post,) = await make_posts(session, author, 1)

    response = await client.get(f"/posts/{post.id}/{post.slug}")

    assert 'class="author-box"' not in response.text


async def test_the_account_page_sets_bio_and_website(
    client: httpx.AsyncClient, author: User
) -> None:
    await browser_login(client, author)
    form = read_form((await client.get("/account")).text)
    assert "bio" in form.values
    assert form.values["website"] == ""
    fields = {"username": "corey", "email": author.email}

    bad = await submit(client, "/account/profile", {**fields, "bio": "Hi", "website": "ftp://x"})
    assert bad.status_code == 422
    assert "http://" in read_form(bad.text).errors["website"]
    saved = await submit(
        client, "/account/profile", {**fields, "bio": "Hi **all**", "website": "https://c.example"}
    )

    assert saved.status_code == 303
    page = await client.get(f"/users/{author.id}/posts")
    assert parse(bio_of(page.text)).tags == ["p", "strong"]
    again = read_form((await client.get("/account")).text)
    assert again.values["website"] == "https://c.example"
    too_long = await submit(client, "/account/profile", {**fields, "bio": "x" * 501})
    assert read_form(too_long.text).errors["bio"] == "Please use at most 500 characters."
