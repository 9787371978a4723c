"""The post form's "Add a picture": without JavaScript the upload returns the form with its
text kept and the picture's Markdown line added (a missing alt text is a warning); the
editor's drag-and-drop and paste upload through POST /posts/pictures with the session."""

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.accounts import browser, browser_login, csrf_token, submit
from tests.factories import make_user
from tests.media.helpers import elements, photo

pytestmark = pytest.mark.anyio

WRITTEN = {"title": "Our trip", "content": "We walked **far**.", "tags": "travel"}


def picture_file(size: tuple[int, int] = (800, 600)) -> dict[str, tuple[str, bytes, str]]:
    return {"picture": ("trip.jpg", photo(size), "image/jpeg")}


async def test_without_javascript_the_upload_adds_a_markdown_line_and_keeps_the_text(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    async with browser(app) as page:
        await browser_login(page, author)
        form = await submit(
            page,
            "/posts/new",
            {**WRITTEN, "picture_alt": "A path [in] the hills", "action": "picture"},
            files=picture_file(),
        )

        assert form.status_code == 200, form.text
        found = elements(form.text)
        content = found.textareas["content"]
        first_line, line = content.strip().split("\n\n")
        assert first_line == WRITTEN["content"]
        assert line.startswith(r"![A path \[in\] the hills](/media/pictures/")
        assert "no description" not in found.texts["picture-notice"]
        published = await submit(page, "/posts/new", {**WRITTEN, "content": content})
        assert published.status_code == 303
        article = await page.get(published.headers["location"])

    (figure,) = [img for img in elements(article.text).images if "srcset" in img and "width" in img]
    assert figure["alt"] == "A path [in] the hills"
    assert figure["src"] == line.split("(")[1].rstrip(")")


async def test_a_picture_without_alt_text_is_a_warning_on_the_form(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    async with browser(app) as page:
        await browser_login(page, author)
        form = await submit(
            page, "/posts/new", {**WRITTEN, "action": "picture"}, files=picture_file()
        )

    assert form.status_code == 200
    notice = elements(form.text).texts["picture-notice"]
    assert "Warning: the picture has no description" in notice
    assert elements(form.text).textareas["content"].strip().endswith(")")


async def test_a_file_that_is_not_a_picture_is_an_error_beside_the_field_text_kept(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session, role="contributor")
    async with browser(app) as page:
        await browser_login(page, author)
        form = await submit(
            page,
            "/posts/new",
            {**WRITTEN, "action": "picture"},
            files={"picture": ("trip.jpg", b"GIF89a but not really", "image/jpeg")},
        )

    assert form.status_code == 422
    found = elements(form.text)
    assert found.texts["picture-error"] == (
        "The file is not a picture we can read: upload a JPEG, PNG, WebP or GIF image."
    )
    assert found.textareas["content"] == WRITTEN["content"]


async def test_the_editor_uploads_with_the_session_and_its_csrf_token(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    contributor = await make_user(session, role="contributor")
    reader = await make_user(session, role="reader")
    picture = {"file": ("pasted.png", photo((300, 300), "PNG"), "image/png")}
    async with browser(app) as page:
        await browser_login(page, contributor)
        forged = await page.post("/posts/pictures", files=picture, data={"csrf_token": "x"})
        token = await csrf_token(page)
        sent = await page.post(
            "/posts/pictures", files=picture, data={"csrf_token": token, "alt": "A square"}
        )
    async with browser(app) as page:
        await browser_login(page, reader)
        refused = await page.post(
            "/posts/pictures", files=picture, data={"csrf_token": await csrf_token(page)}
        )

    assert forged.status_code == 403
    assert sent.status_code == 201, sent.text
    assert sent.json()["alt"] == "A square"
    assert sent.json()["url"].startswith("/media/pictures/")
    assert refused.status_code == 403
    assert refused.json() == {"detail": "Readers cannot upload pictures."}
