"""The sanitizer and the CSP agree: every picture a post shows is one the page's CSP lets the
browser load, with EXTERNAL_IMAGES=link (another site's picture is a link) and =allow (it is
shown, and img-src allows https:)."""

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI

from fastblog.media.store import image_sources
from tests.apps import create_app
from tests.asgi import asgi_transport, resources_of, started
from tests.conftest import make_settings, reset_database
from tests.factories import api_create_post, make_user
from tests.media.helpers import elements, photo, upload

pytestmark = pytest.mark.anyio

CONTENT = (
    "![Ours]({url})\n\n"
    "![A cat](https://cats.example/cat.jpg)\n\n"
    "![Plain http](http://cats.example/dog.jpg)\n\n"
    "Inline ![a cat](https://cats.example/small.jpg) too."
)


def img_src(response: httpx.Response) -> list[str]:
    csp = response.headers["content-security-policy"]
    (directive,) = [part.split()[1:] for part in csp.split(";") if part.split()[0] == "img-src"]
    return directive


def allowed(src: str, sources: list[str]) -> bool:
    """Whether CSP's img-src lets a page of this site load `src`."""
    parts = urlsplit(src)
    if not parts.scheme and not parts.netloc:
        return "'self'" in sources
    origin = f"{parts.scheme}://{parts.netloc}"
    return f"{parts.scheme}:" in sources or origin in sources


@pytest.fixture(params=["link", "allow"])
async def app_in_mode(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path
) -> AsyncIterator[FastAPI]:
    app = create_app(make_settings(database_url, tmp_path, external_images=request.param))
    async with started(app):
        await reset_database(app)
        yield app


async def test_every_picture_a_post_shows_is_one_its_csp_allows(app_in_mode: FastAPI) -> None:
    app = app_in_mode
    mode = resources_of(app).settings.external_images
    async with resources_of(app).database.session() as session:
        author = await make_user(session)
    transport = asgi_transport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        picture = (await upload(app, client, author, photo((600, 400)))).json()
        created = await api_create_post(client, author, content=CONTENT.format(**picture))
        post = created.json()
        page = await client.get(f"/posts/{post['id']}/{post['slug']}")

    sources = img_src(page)
    shown = [str(img["src"]) for img in elements(page.text).images]
    assert picture["url"] in shown
    assert all(allowed(src, sources) for src in shown), (shown, sources)
    linked = {str(a["href"]) for a in elements(page.text).links}
    assert "http://cats.example/dog.jpg" in linked  # http: never an image (never allowed)
    external = {"https://cats.example/cat.jpg", "https://cats.example/small.jpg"}
    if mode == "allow":
        assert external <= set(shown)
        assert "https:" in sources
    else:
        assert external <= linked
        assert not external & set(shown)
        assert "https:" not in sources


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, ()),
        ({"s3_bucket": "pics", "s3_endpoint_url": "http://minio:9000/"}, ("http://minio:9000",)),
        (
            {"s3_bucket": "pics", "media_url": "https://cdn.example/media/"},
            ("https://cdn.example",),
        ),
        (
            {"s3_bucket": "pics", "s3_region": "eu-west-3"},
            ("https://pics.s3.amazonaws.com", "https://pics.s3.eu-west-3.amazonaws.com"),
        ),
        ({"external_images": "allow"}, ("https:",)),
    ],
)
def test_img_src_names_where_the_sites_pictures_are(
    overrides: dict[str, str], expected: tuple[str, ...], tmp_path: Path
) -> None:
    settings = make_settings("sqlite+aiosqlite:///unused.db", tmp_path, **overrides)

    assert image_sources(settings) == expected
