"""Pictures for posts in S3-compatible storage (a real S3-protocol server: moto's server mode):
stored under their content-hashed names with a year's immutable Cache-Control, reached through
this site's /media addresses."""

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from bench.cluster import create_bucket, moto_s3
from tests.apps import create_app
from tests.asgi import asgi_transport, resources_of, started
from tests.conftest import make_settings, reset_database
from tests.factories import make_user
from tests.media.helpers import photo, upload

pytestmark = pytest.mark.anyio

CREDENTIALS = {"s3_access_key_id": "testing", "s3_secret_access_key": "testing"}


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with moto_s3(tmp_path_factory.mktemp("moto")) as url:
        yield url


def files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


@pytest.fixture
async def bucket_app(database_url: str, s3_endpoint: str, tmp_path: Path) -> AsyncIterator[FastAPI]:
    bucket = f"fastblog-{uuid.uuid4().hex[:12]}"
    await create_bucket(s3_endpoint, bucket)
    settings = make_settings(
        database_url,
        tmp_path / "media",
        s3_bucket=bucket,
        s3_endpoint_url=s3_endpoint,
        **CREDENTIALS,
    )
    app = create_app(settings)
    async with started(app):
        await reset_database(app)
        yield app


async def test_a_post_picture_in_the_bucket_is_served_immutable(
    bucket_app: FastAPI, s3_endpoint: str, tmp_path: Path
) -> None:
    async with resources_of(bucket_app).database.session() as session:
        author = await make_user(session, username="ann")
    transport = asgi_transport(bucket_app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
        httpx.AsyncClient(trust_env=False) as browser,
    ):
        # The pages' CSP lets the browser follow /media's redirects to the bucket.
        home = await client.get("/")
        csp = home.headers["content-security-policy"]
        assert f"img-src 'self' data: {s3_endpoint};" in csp

        response = await upload(bucket_app, client, author, photo((1000, 600)))
        assert response.status_code == 201, response.text
        picture = response.json()

        for url in [picture["url"], *(source["url"] for source in picture["srcset"])]:
            redirect = await client.get(url)
            assert redirect.status_code == 307, url
            location = redirect.headers["location"]
            assert location.startswith(f"{s3_endpoint}/")
            served = await browser.get(location)
            assert served.status_code == 200
            assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
            assert served.headers["content-type"] in ("image/jpeg", "image/webp")

    assert files_under(tmp_path) == [], "nothing is stored in MEDIA_DIR"
