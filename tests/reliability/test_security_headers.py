"""Security headers on every kind of response, uploads that can never be a page, offline docs.

Every response — a page, API JSON, a static file, an uploaded picture, a 401/404/405/413/422,
a redirect — carries a Content-Security-Policy without inline script (the API docs alone
allow Swagger's inline start-up script), nosniff, DENY framing and a Referrer-Policy; HSTS
only when the site is served over HTTPS.
"""

import re
from collections.abc import AsyncIterator
from io import BytesIO
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.config import Settings
from tests.apps import create_app
from tests.asgi import asgi_transport, started
from tests.conftest import make_settings
from tests.factories import login, make_posts, make_user

pytestmark = pytest.mark.anyio

URL_IN_HTML = re.compile(r"""(?:src|href)=["']?(?:https?:)?//""")


def png(size: tuple[int, int] = (40, 30)) -> bytes:
    output = BytesIO()
    Image.new("RGB", size, "teal").save(output, "PNG")
    return output.getvalue()


def assert_secure(response: httpx.Response, *, hsts: bool = False) -> None:
    headers = response.headers
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp or "sandbox" in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert ("strict-transport-security" in headers) is hsts
    if hsts:
        assert headers["strict-transport-security"].startswith("max-age=")
    if not response.url.path.startswith(("/docs", "/redoc")):
        assert "unsafe-inline" not in csp.split("script-src", 1)[-1].split(";", 1)[0]


async def every_kind_of_response(
    client: httpx.AsyncClient, session: AsyncSession
) -> dict[str, httpx.Response]:
    author = await make_user(session)
    [post] = await make_posts(session, author, 1)
    headers = await login(client, author)
    upload = await client.patch(
        "/api/users/me/picture", files={"file": ("me.png", png(), "image/png")}, headers=headers
    )
    assert upload.status_code == 200, upload.text
    responses = {
        "page": await client.get("/"),
        "post page": await client.get(f"/posts/{post.id}/{post.slug}"),
        "moved": await client.get(f"/posts/{post.id}"),
        "form page": await client.get("/login"),
        "api json": await client.get("/api/posts"),
        "static file": await client.get("/static/css/main.css"),
        "media file": await client.get(upload.json()["image_path"]),
        "missing media": await client.get("/media/profile_pics/nothing.jpg"),
        "404 page": await client.get("/no/such/page"),
        "404 api": await client.get("/api/posts/987654"),
        "422 api": await client.get("/api/posts?limit=0"),
        "422 page": await client.get("/?page=0"),
        "401 api": await client.get("/api/users/me"),
        "405 api": await client.put("/api/posts"),
        "413 api": await client.post(
            "/api/posts", content=b"x" * (1024 * 1024 + 1), headers=headers
        ),
        "redirect": await client.get("/posts/new"),
        "health": await client.get("/health"),
        "openapi": await client.get("/openapi.json"),
        "docs": await client.get("/docs"),
        "redoc": await client.get("/redoc"),
        "docs asset": await client.get("/docs-assets/swagger-ui-bundle.js"),
    }
    expected = {"404 page": 404, "404 api": 404, "missing media": 404, "422 api": 422}
    expected |= {"422 page": 422, "401 api": 401, "405 api": 405, "413 api": 413, "redirect": 303}
    expected |= {"moved": 301}
    for kind, response in responses.items():
        assert response.status_code == expected.get(kind, 200), (kind, response.status_code)
    return responses


async def test_every_kind_of_response_has_the_headers(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    for kind, response in (await every_kind_of_response(client, session)).items():
        try:
            assert_secure(response)
        except (AssertionError, KeyError) as exc:
            raise AssertionError(f"{kind}: {dict(response.headers)}") from exc


@pytest.fixture
async def https_app(settings: Settings, tmp_path: Path) -> AsyncIterator[FastAPI]:
    app = create_app(make_settings(settings.database_url, tmp_path, https=True))
    async with started(app):
        yield app


async def test_hsts_only_over_https(
    https_app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    transport = asgi_transport(https_app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as secure:
        for kind, response in (await every_kind_of_response(secure, session)).items():
            try:
                assert_secure(response, hsts=True)
            except (AssertionError, KeyError) as exc:
                raise AssertionError(f"{kind}: {dict(response.headers)}") from exc
        login_page = await secure.get("/login")
        assert "secure" in login_page.headers["set-cookie"].lower()
    assert "strict-transport-security" not in (await client.get("/")).headers


async def test_pictures_are_served_as_jpeg_whatever_was_uploaded(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    headers = await login(client, await make_user(session))
    polyglot = png() + b"<html><script>alert(1)</script></html>"  # a PNG that is also "HTML"

    upload = await client.patch(
        "/api/users/me/picture", files={"file": ("x.html", polyglot, "text/html")}, headers=headers
    )
    assert upload.status_code == 200, upload.text
    served = await client.get(upload.json()["image_path"])

    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in served.headers["content-security-policy"]
    assert served.content.startswith(b"\xff\xd8\xff")  # re-encoded: a JPEG, nothing else
    assert b"<script" not in served.content
    assert upload.json()["image_path"].endswith(".jpg")


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        (
            "x.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "image/svg+xml",
        ),
        ("x.html", b"<!doctype html><script>alert(1)</script>", "text/html"),
        ("x.png", b"\x89PNG\r\n\x1a\n" + b"<script>alert(1)</script>", "image/png"),
    ],
)
async def test_script_uploads_are_refused(
    client: httpx.AsyncClient, session: AsyncSession, name: str, content: bytes, content_type: str
) -> None:
    headers = await login(client, await make_user(session))
    upload = await client.patch(
        "/api/users/me/picture", files={"file": (name, content, content_type)}, headers=headers
    )
    assert upload.status_code == 422
    assert "not a picture" in upload.json()["detail"]


async def test_docs_work_offline(client: httpx.AsyncClient) -> None:
    for path, assets in [
        ("/docs", ["/docs-assets/swagger-ui-bundle.js", "/docs-assets/swagger-ui.css"]),
        ("/redoc", ["/docs-assets/redoc.standalone.js"]),
    ]:
        page = await client.get(path)
        assert page.status_code == 200
        assert not URL_IN_HTML.search(page.text), f"{path} loads from another site"
        for asset in assets:
            assert asset in page.text
            served = await client.get(asset)
            assert served.status_code == 200
            assert len(served.content) > 10_000


async def test_docs_can_be_switched_off(settings: Settings, tmp_path: Path) -> None:
    app = create_app(make_settings(settings.database_url, tmp_path, docs_enabled=False))
    transport = asgi_transport(app)
    async with (
        started(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
    ):
        for path in ("/docs", "/redoc", "/openapi.json", "/docs-assets/swagger-ui-bundle.js"):
            response = await client.get(path)
            assert response.status_code == 404, path
            assert_secure(response)
        assert (await client.get("/health")).status_code == 200
