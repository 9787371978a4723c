import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import make_posts, make_user
from tests.html import read_page

pytestmark = pytest.mark.anyio


async def test_user_page_lists_only_their_posts(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ada = await make_user(session, username="ada")
    bob = await make_user(session, username="bob")
    theirs = await make_posts(session, ada, 3)
    others = await make_posts(session, bob, 2)

    response = await client.get(f"/users/{ada.id}/posts")

    assert response.status_code == 200
    page = read_page(response)
    assert page.title.startswith("Posts by ada")
    assert "Posts by ada" in page.text
    assert "3 posts" in page.text
    shown = [post.title for post in theirs if post.title in page.text]
    assert sorted(shown, key=page.text.index) == [post.title for post in reversed(theirs)]
    assert not any(post.title in page.text for post in others)
    assert not page.has_link("bob")


async def test_user_page_with_one_post_says_post(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ada = await make_user(session, username="ada")
    await make_posts(session, ada, 1)

    page = read_page(await client.get(f"/users/{ada.id}/posts"))

    assert "1 post " in page.text


async def test_user_page_shows_their_picture(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ada = await make_user(session, username="ada", image_file="ada.png")

    page = read_page(await client.get(f"/users/{ada.id}/posts"))

    assert "/media/profile_pics/ada.png" in page.images


async def test_user_without_posts_has_an_empty_state(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ada = await make_user(session, username="ada")

    page = read_page(await client.get(f"/users/{ada.id}/posts"))

    assert "0 posts" in page.text
    assert "ada has not written anything yet." in page.text


async def test_user_page_is_paginated(client: httpx.AsyncClient, session: AsyncSession) -> None:
    ada = await make_user(session, username="ada")
    posts = await make_posts(session, ada, 12)

    first = read_page(await client.get(f"/users/{ada.id}/posts"))
    older = first.link("Older posts →")
    second = read_page(
        await client.get(httpx.URL(f"http://testserver/users/{ada.id}/posts").join(older.href))
    )

    assert [post.title in first.text for post in posts] == [False] * 2 + [True] * 10
    assert [post.title in second.text for post in posts] == [True] * 2 + [False] * 10
    assert "Page 2 of 2" in second.text
    assert second.text.index("Post 2 by ada") < second.text.index("Post 1 by ada")
    assert second.has_link("← Newer posts")


async def test_unknown_user_page_is_an_html_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/users/999/posts")

    assert response.status_code == 404
    assert "User not found" in read_page(response).text


async def test_bad_user_id_is_an_html_422(client: httpx.AsyncClient) -> None:
    response = await client.get("/users/abc/posts")

    assert response.status_code == 422
    assert "The account number in the address: must be a whole number." in read_page(response).text
