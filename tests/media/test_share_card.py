"""A post's feature image: in the API and the form, at the top of the article, small and lazy
on list cards; the share card (og:image, twitter:card) shows it, else the post's first
uploaded picture, else the site's share image, never the author's avatar."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from fastblog.accounts.roles import Role
from tests.accounts import bearer, browser, browser_login, read_form, submit
from tests.factories import api_create_post, make_user
from tests.html import read_page
from tests.media.helpers import elements, photo, upload

pytestmark = pytest.mark.anyio


async def uploaded(app: FastAPI, client: httpx.AsyncClient, user: User, **kw: Any) -> Any:
    response = await upload(app, client, user, photo((1600, 900)), **kw)
    assert response.status_code == 201, response.text
    return response.json()


async def page_of(client: httpx.AsyncClient, post: dict[str, Any]) -> httpx.Response:
    response = await client.get(f"/posts/{post['id']}/{post['slug']}")
    assert response.status_code == 200
    return response


async def test_the_feature_image_tops_the_article_cards_and_the_share_card(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    feature = await uploaded(app, client, author, alt="at upload")
    inside = await uploaded(app, client, author)

    created = await api_create_post(
        client,
        author,
        title="Harbour",
        content=f"Words.\n\n![Boats]({inside['url']})",
        feature_image=f"http://testserver{feature['url']}",  # the site's address is allowed
        feature_image_alt="The harbour at dawn",
    )

    assert created.status_code == 201, created.text
    post = created.json()
    assert post["feature_image"] == feature["url"]
    assert post["feature_image_alt"] == "The harbour at dawn"
    page = await page_of(client, post)
    found = elements(page.text)
    top = next(img for img in found.images if img["src"] == feature["url"])
    assert top["alt"] == "The harbour at dawn"
    assert (top["width"], top["height"]) == ("1600", "900")
    assert "loading" not in top
    meta = read_page(page).meta
    assert meta["og:image"] == f"http://testserver{feature['url']}"
    assert (meta["og:image:width"], meta["og:image:height"]) == ("1600", "900")
    assert meta["og:image:alt"] == "The harbour at dawn"
    assert meta["twitter:card"] == "summary_large_image"

    home = elements((await client.get("/")).text)
    (card,) = [img for img in home.images if img.get("loading") == "lazy"]
    assert card["src"] == feature["srcset"][0]["url"]  # the narrowest variant
    assert card["alt"] == "The harbour at dawn"


async def test_without_a_feature_image_the_first_picture_is_the_share_card(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    first = await uploaded(app, client, author)
    second = await uploaded(app, client, author, alt="second")
    content = f"Hi.\n\n![The first]({first['url']})\n\n![]({second['url']})"

    post = (await api_create_post(client, author, content=content)).json()

    meta = read_page(await page_of(client, post)).meta
    assert meta["og:image"] == f"http://testserver{first['url']}"
    assert meta["og:image:alt"] == "The first"
    assert meta["twitter:card"] == "summary_large_image"
    # No feature image: the list card shows none.
    home = elements((await client.get("/")).text)
    assert not [img for img in home.images if str(img["src"]).startswith("/media/")]


async def test_without_pictures_the_share_card_is_the_sites_share_image(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    owner = await make_user(session, role=Role.OWNER.value)
    post = (await api_create_post(client, author, content="Only words.")).json()

    before = read_page(await page_of(client, post)).meta
    changed = await client.patch(
        "/api/site", json={"share_image": "/static/img/share.png"}, headers=bearer(app, owner)
    )
    assert changed.status_code == 200, changed.text
    after = read_page(await page_of(client, post)).meta

    assert "og:image" not in before
    assert before["twitter:card"] == "summary"
    assert after["og:image"] == "http://testserver/static/img/share.png"
    assert "og:image:width" not in after
    assert after["twitter:card"] == "summary_large_image"


@pytest.mark.parametrize("value", ["javascript:alert(1)", "//evil.example/x.png", "http://x/y"])
async def test_the_share_image_setting_is_a_path_here_or_an_https_address(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, value: str
) -> None:
    owner = await make_user(session, role=Role.OWNER.value)

    response = await client.patch(
        "/api/site", json={"share_image": value}, headers=bearer(app, owner)
    )

    assert response.status_code == 422


async def test_a_feature_image_not_uploaded_here_is_refused_by_field(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)

    elsewhere = await api_create_post(
        client, author, feature_image="https://elsewhere.example/a.jpg"
    )
    unknown = await api_create_post(
        client, author, feature_image="/media/pictures/0123456789abcdef0123.jpg"
    )

    assert elsewhere.status_code == 422
    assert elsewhere.json()["detail"][0]["loc"] == ["body", "feature_image"]
    assert elsewhere.json()["detail"][0]["msg"] == (
        "Must be the /media/pictures/... address of a picture uploaded here."
    )
    assert unknown.status_code == 422
    assert unknown.json()["detail"] == (
        "The feature image is the URL of a picture uploaded here (POST /api/media)."
    )


async def test_the_form_sets_and_keeps_the_feature_image(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    picture = await uploaded(app, client, author)
    fields = {"title": "Dawn", "content": "Words.", "action": "publish"}
    async with browser(app) as page:
        await browser_login(page, author)
        unknown = "/media/pictures/0123456789abcdef0123.jpg"
        refused = await submit(page, "/posts/new", {**fields, "feature_image": unknown})
        saved = await submit(
            page,
            "/posts/new",
            {**fields, "feature_image": picture["url"], "feature_image_alt": "Sun"},
        )
        assert saved.status_code == 303, saved.text
        post_id = saved.headers["location"].split("/")[2]
        form = await page.get(f"/posts/{post_id}/edit")

    assert refused.status_code == 422
    assert read_form(refused.text).errors["feature_image"] == (
        "The feature image is the URL of a picture uploaded here (POST /api/media)."
    )
    values = read_form(form.text).values
    assert values["feature_image"] == picture["url"]
    assert values["feature_image_alt"] == "Sun"
