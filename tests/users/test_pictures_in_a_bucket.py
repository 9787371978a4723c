"""Pictures in S3-compatible object storage: uploaded through one app host, served by another
whose own MEDIA_DIR is empty. The bucket is a real S3-protocol server (moto's server mode)."""

import uuid
from collections.abc import AsyncIterator, Iterator
from io import BytesIO
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image

from bench.cluster import create_bucket, moto_s3
from bench.live import free_port, ssl_context
from tests.accounts import bearer, image_bytes
from tests.apps import create_app
from tests.asgi import asgi_transport, resources_of, started
from tests.conftest import make_settings, reset_database
from tests.factories import make_user

pytestmark = pytest.mark.anyio

CREDENTIALS = {"s3_access_key_id": "testing", "s3_secret_access_key": "testing"}


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto's S3 server on a free loopback port, for this module; killed at the end."""
    with moto_s3(tmp_path_factory.mktemp("moto")) as url:
        yield url


@pytest.fixture(scope="module")
async def bucket(s3_endpoint: str) -> str:
    name = f"fastblog-{uuid.uuid4().hex[:12]}"
    await create_bucket(s3_endpoint, name)
    return name


# For the module (on each database): each host's S3 client costs ~0.4 CPU-s to make (botocore
# reads and builds the S3 model), and the tests cannot disturb each other: one uploads, the
# other asks for keys that are not pictures.
@pytest.fixture(scope="module")
async def two_hosts(
    database_url: str, s3_endpoint: str, bucket: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[FastAPI, FastAPI]]:
    """Two app instances on one database and one bucket, each with its own empty MEDIA_DIR."""
    folder = tmp_path_factory.mktemp("hosts")
    apps = [
        create_app(
            make_settings(
                database_url,
                folder / name,
                s3_bucket=bucket,
                s3_endpoint_url=s3_endpoint,
                **CREDENTIALS,
            )
        )
        for name in ("host-a", "host-b")
    ]
    async with started(apps[0]), started(apps[1]):
        await reset_database(apps[0])
        yield apps[0], apps[1]


def files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


def client_of(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=asgi_transport(app), base_url="http://testserver")


async def test_a_picture_uploaded_through_one_host_is_served_by_the_other(
    two_hosts: tuple[FastAPI, FastAPI], s3_endpoint: str
) -> None:
    host_a, host_b = two_hosts
    async with resources_of(host_a).database.session() as session:
        user = await make_user(session, username="judy")
    async with (
        client_of(host_a) as a,
        client_of(host_b) as b,
        httpx.AsyncClient(trust_env=False, verify=ssl_context()) as browser,
    ):
        uploaded = await a.patch(
            "/api/users/me/picture",
            files={"file": ("me.png", image_bytes("PNG", (640, 480)), "image/png")},
            headers=bearer(host_a, user),
        )
        assert uploaded.status_code == 200, uploaded.text
        image_path = uploaded.json()["image_path"]
        assert image_path.startswith("/media/profile_pics/")

        redirect = await b.get(image_path)
        assert redirect.status_code == 307
        location = redirect.headers["location"]
        assert location.startswith(f"{s3_endpoint}/"), location
        assert "Signature=" in location or "X-Amz-Signature=" in location
        picture = await browser.get(location)
        assert picture.status_code == 200
        assert picture.headers["content-type"] == "image/jpeg"
        with Image.open(BytesIO(picture.content)) as image:
            assert image.size == (256, 256)

        # Replaced: the first object is gone from the bucket.
        replaced = await a.patch(
            "/api/users/me/picture",
            files={"file": ("me.png", image_bytes("PNG", color="blue"), "image/png")},
            headers=bearer(host_a, user),
        )
        assert replaced.status_code == 200
        assert (await browser.get(location)).status_code == 404
        new_location = (await b.get(replaced.json()["image_path"])).headers["location"]
        assert (await browser.get(new_location)).status_code == 200

        ready = await b.get("/ready")
        assert ready.json()["checks"] == {"database": "ok", "storage": "ok"}

    for host in two_hosts:
        media_dir = resources_of(host).settings.media_dir
        assert files_under(media_dir) == [], "nothing is stored in either host's MEDIA_DIR"


async def test_only_picture_keys_are_handed_out(two_hosts: tuple[FastAPI, FastAPI]) -> None:
    _, host_b = two_hosts
    async with client_of(host_b) as b:
        for path in ("/media/secrets.txt", "/media/profile_pics/../x.jpg", "/media/profile_pics/"):
            assert (await b.get(path)).status_code == 404, path


async def test_ready_names_the_storage_when_the_bucket_is_away(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(
        database_url,
        tmp_path / "media",
        s3_bucket="fastblog",
        s3_endpoint_url=f"http://127.0.0.1:{free_port()}",
        **CREDENTIALS,
    )
    app = create_app(settings)
    async with started(app), client_of(app) as client:
        ready = await client.get("/ready")

    assert ready.status_code == 503
    checks = ready.json()["checks"]
    # Refused, or still being retried by the S3 client when READY_TIMEOUT_SECONDS runs out.
    assert checks["database"] == "ok"
    assert checks["storage"] in {"unreachable", "timeout"}
