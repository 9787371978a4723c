"""Small things a newcomer noticed on the pages: each as a reader sees it."""

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.accounts import browser_login, submit
from tests.factories import make_posts, make_user
from tests.html import read_page
from tests.reliability.browser import browser_login as login_for_csrf

pytestmark = pytest.mark.anyio


async def test_an_anonymous_reader_is_offered_to_log_in_to_follow(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ada = await make_user(session, username="ada")
    await make_posts(session, ada, 1)

    page = read_page(await client.get(f"/users/{ada.id}/posts"))

    link = page.link("Log in to follow ada")
    assert link.path == "/login"
    assert httpx.URL(link.href).params["next"] == f"/users/{ada.id}/posts"


async def test_the_comment_box_says_its_limit(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    [post] = await make_posts(session, author, 1)
    await browser_login(client, author)

    response = await client.get(f"/posts/{post.id}/{post.slug}")

    assert "Up to 5,000 characters." in read_page(response).text
    assert 'maxlength="5000"' in response.text


async def test_preview_lands_on_the_preview(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await login_for_csrf(client, await make_user(session))

    form = await client.get("/posts/new")
    preview = await submit(
        client, "/posts/new#preview", {"title": "T", "content": "Hello", "action": "preview"}
    )

    assert 'value="preview" formaction="/posts/new#preview"' in form.text
    assert preview.status_code == 200
    assert 'id="preview"' in preview.text


async def test_the_delete_on_a_list_card_is_a_quiet_link_and_a_button_on_the_post(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    [post] = await make_posts(session, author, 1)
    await browser_login(client, author)

    listed = await client.get("/")
    shown = await client.get(f"/posts/{post.id}/{post.slug}")

    assert read_page(listed).link(f"Delete “{post.title}”").path == f"/posts/{post.id}/delete"
    assert f'class="quiet-link" href="/posts/{post.id}/delete"' in listed.text
    assert "button-danger" not in listed.text
    assert f'class="button button-danger" href="/posts/{post.id}/delete"' in shown.text
