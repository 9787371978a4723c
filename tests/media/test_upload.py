"""POST /api/media: a picture for a post is checked by decoding it, turned upright, stripped
of its metadata and stored in several widths under names that change with its bytes."""

from io import BytesIO

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.media.images import MAX_PIXELS
from tests.factories import make_user
from tests.media.helpers import GPS_IFD, photo, stored, upload

pytestmark = pytest.mark.anyio


def opened(data: bytes) -> Image.Image:
    image = Image.open(BytesIO(data))
    image.load()
    return image


async def test_a_phone_photo_is_turned_upright_stripped_and_stored_in_three_widths(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session, role="author")

    response = await upload(app, client, author, photo((2000, 1500), rotate=True))

    assert response.status_code == 201, response.text
    picture = response.json()
    # Orientation 6 turns the 2000x1500 landscape into a 1500x2000 portrait.
    assert (picture["width"], picture["height"]) == (1500, 2000)
    assert picture["alt"] == "A red and blue flag"
    assert [source["width"] for source in picture["srcset"]] == [480, 960, 1500]
    urls = [picture["url"], *(source["url"] for source in picture["srcset"])]
    for url in urls:
        image = opened(stored(app, url).read_bytes())
        assert image.getexif() == {}, url  # no camera, no orientation, no GPS
        assert image.getexif().get_ifd(GPS_IFD) == {}
        assert "xmp" not in image.info
        assert image.width * 4 == image.height * 3  # portrait, as shown
        # Turned clockwise: the red left half is now on top.
        assert image.convert("RGB").getpixel((image.width // 2, 5)) == pytest.approx(
            (254, 0, 0), abs=3
        )
    assert opened(stored(app, picture["url"]).read_bytes()).format == "JPEG"
    assert all(source["url"].endswith(".webp") for source in picture["srcset"])

    served = await client.get(picture["url"])
    assert served.status_code == 200
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert served.content == stored(app, picture["url"]).read_bytes()


async def test_a_small_picture_is_never_made_wider(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    png = photo((300, 200), "PNG")

    response = await upload(app, client, author, png, name="small.png", content_type="image/png")

    assert response.status_code == 201, response.text
    picture = response.json()
    assert (picture["width"], picture["height"]) == (300, 200)
    assert [source["width"] for source in picture["srcset"]] == [300]
    assert picture["url"].endswith(".png")


@pytest.mark.parametrize(("role", "status"), [("reader", 403), ("contributor", 201)])
async def test_contributors_upload_and_readers_do_not(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, role: str, status: int
) -> None:
    user = await make_user(session, role=role)

    response = await upload(app, client, user, photo((200, 100)))

    assert response.status_code == status, response.text


async def test_anonymous_uploads_are_refused(client: httpx.AsyncClient, app: FastAPI) -> None:
    response = await upload(app, client, None, photo((200, 100)))

    assert response.status_code == 401


async def test_a_file_over_the_size_limit_is_413_with_the_limit(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    limit = 10 * 1024 * 1024

    response = await upload(app, client, author, b"\xff\xd8" + bytes(limit))

    assert response.status_code == 413
    assert response.json()["detail"] == "The picture is larger than 10 MB: make it smaller."


@pytest.mark.parametrize(
    "data",
    [
        b"#!/bin/sh\necho not a picture\n",  # named photo.jpg, sent as image/jpeg
        photo((400, 300))[:2000],  # a JPEG cut short
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",  # not a format we decode
    ],
    ids=["script", "truncated", "svg"],
)
async def test_a_file_that_is_not_a_picture_is_422(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, data: bytes
) -> None:
    author = await make_user(session)

    response = await upload(app, client, author, data)

    assert response.status_code == 422
    assert response.json()["detail"] == (
        "The file is not a picture we can read: upload a JPEG, PNG, WebP or GIF image."
    )


@pytest.mark.parametrize("pixels", [MAX_PIXELS + 1_000_000, 3 * MAX_PIXELS])
async def test_too_many_pixels_and_decompression_bombs_are_422(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, pixels: int
) -> None:
    author = await make_user(session)
    bomb = BytesIO()
    # One bit a pixel and all the same: a few kilobytes that would unpack to ~100+ MB.
    Image.new("1", (10_000, pixels // 10_000)).save(bomb, "PNG")
    assert len(bomb.getvalue()) < 200_000

    response = await upload(app, client, author, bomb.getvalue(), name="x.png")

    assert response.status_code == 422
    assert response.json()["detail"] == "The picture has more than 40 megapixels: make it smaller."


async def test_the_same_picture_uploaded_twice_is_one_picture_with_the_new_alt(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    data = photo((640, 480))

    first = (await upload(app, client, author, data, alt="first")).json()
    again = await upload(app, client, author, data, alt="second")

    assert again.status_code == 201
    assert again.json() == {**first, "alt": "second"}
