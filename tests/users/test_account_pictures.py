"""Profile pictures: real images are squared, oriented, stored and served; anything else is a
clear 4xx, never a 500."""

import functools
import random
from io import BytesIO
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from tests.accounts import bearer, browser_login, image_bytes, read_form, submit
from tests.asgi import resources_of
from tests.factories import make_user

pytestmark = pytest.mark.anyio

NOT_A_PICTURE = "The file is not a picture we can read: upload a JPEG, PNG, GIF or WebP image."
FIVE_MB = 5 * 1024 * 1024


@pytest.fixture
async def user(session: AsyncSession) -> User:
    return await make_user(session, username="judy")


def stored(app: FastAPI, image_path: str) -> Path:
    assert image_path.startswith("/media/")
    return Path(resources_of(app).settings.media_dir) / image_path.removeprefix("/media/")


async def upload(
    app: FastAPI,
    client: httpx.AsyncClient,
    user: User,
    data: bytes,
    name: str = "me.png",
    content_type: str = "image/png",
) -> httpx.Response:
    return await client.patch(
        "/api/users/me/picture",
        files={"file": (name, data, content_type)},
        headers=bearer(app, user),
    )


@pytest.mark.parametrize(
    ("fmt", "content_type"), [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("GIF", "image/gif")]
)
async def test_a_real_image_is_stored_as_a_256_square_and_served(
    app: FastAPI, client: httpx.AsyncClient, user: User, fmt: str, content_type: str
) -> None:
    response = await upload(
        app, client, user, image_bytes(fmt, (640, 480)), f"me.{fmt.lower()}", content_type
    )

    assert response.status_code == 200, response.text
    image_path = response.json()["image_path"]
    with Image.open(stored(app, image_path)) as picture:
        assert picture.size == (256, 256)
    served = await client.get(image_path)
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    assert served.content == stored(app, image_path).read_bytes()
    public = (await client.get(f"/api/users/{user.id}")).json()
    assert public["image_path"] == image_path


def sideways_jpeg() -> bytes:
    """Stored 300x200, red on the left, blue on the right, with EXIF "rotate 90° clockwise"
    (orientation 6): upright it is 200x300, red on top and blue below."""
    image = Image.new("RGB", (300, 200), "blue")
    image.paste((255, 0, 0), (0, 0, 150, 200))
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes(), quality=95)
    return buffer.getvalue()


def is_red(pixel: tuple[int, ...]) -> bool:
    return pixel[0] > 200 and pixel[2] < 60


def is_blue(pixel: tuple[int, ...]) -> bool:
    return pixel[2] > 200 and pixel[0] < 60


async def test_the_exif_orientation_is_applied(
    app: FastAPI, client: httpx.AsyncClient, user: User
) -> None:
    response = await upload(app, client, user, sideways_jpeg(), "phone.jpg", "image/jpeg")

    assert response.status_code == 200, response.text
    with Image.open(stored(app, response.json()["image_path"])) as picture:
        rgb = picture.convert("RGB")
        assert picture.size == (256, 256)
        assert is_red(rgb.getpixel((128, 20)))  # type: ignore[arg-type]
        assert is_blue(rgb.getpixel((128, 236)))  # type: ignore[arg-type]


async def test_replacing_and_deleting_remove_the_previous_file(
    app: FastAPI, client: httpx.AsyncClient, user: User
) -> None:
    first = await upload(app, client, user, image_bytes("PNG", color="red"))
    first_file = stored(app, first.json()["image_path"])
    assert first_file.exists()

    second = await upload(app, client, user, image_bytes("PNG", color="blue"))
    second_file = stored(app, second.json()["image_path"])

    assert second_file != first_file
    assert second_file.exists()
    assert not first_file.exists()
    assert (await client.get(first.json()["image_path"])).status_code == 404

    removed = await client.delete("/api/users/me/picture", headers=bearer(app, user))

    assert removed.status_code == 200
    assert removed.json()["image_file"] is None
    assert removed.json()["image_path"] == "/static/img/default-avatar.png"
    assert not second_file.exists()
    assert (await client.get(removed.json()["image_path"])).status_code == 200


async def test_deleting_the_account_removes_its_picture(
    app: FastAPI, client: httpx.AsyncClient, user: User
) -> None:
    uploaded = await upload(app, client, user, image_bytes())
    picture = stored(app, uploaded.json()["image_path"])

    deleted = await client.delete(f"/api/users/{user.id}", headers=bearer(app, user))

    assert deleted.status_code == 204
    assert not picture.exists()


def garbled(data: bytes, seed: int) -> bytes:
    rng = random.Random(seed)
    mutable = bytearray(data)
    for _ in range(12):
        mutable[rng.randrange(32, len(mutable))] = rng.randrange(256)
    return bytes(mutable)


@functools.cache  # the bomb alone takes a second to compress: made once, not per case
def unreadable_files() -> dict[str, bytes]:
    png = image_bytes("PNG", (64, 64))
    jpeg = image_bytes("JPEG", (64, 64))
    bomb = BytesIO()
    Image.new("1", (12_000, 12_000)).save(bomb, "PNG")  # tiny file, 144 megapixels
    files = {
        "text-named-png": b"Just some text pretending to be a picture.\n" * 20,
        "truncated-png": png[: len(png) // 2],
        "truncated-jpeg": jpeg[: len(jpeg) // 2],
        "png-header-only": png[:33],
        "pdf": b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n",
        "svg": b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
        "decompression-bomb": bomb.getvalue(),
    }
    return files


@pytest.mark.parametrize("case", list(unreadable_files()))
async def test_a_file_that_is_not_a_readable_image_is_422(
    app: FastAPI, client: httpx.AsyncClient, user: User, case: str
) -> None:
    response = await upload(app, client, user, unreadable_files()[case])

    assert response.status_code == 422, response.text
    assert response.json() == {"detail": NOT_A_PICTURE}
    assert (await client.get(f"/api/users/{user.id}")).json()["image_file"] is None


async def test_an_empty_file_is_422(app: FastAPI, client: httpx.AsyncClient, user: User) -> None:
    response = await upload(app, client, user, b"")

    assert response.status_code == 422
    assert response.json() == {"detail": "The file is empty"}


async def test_damaged_images_are_never_a_server_error(
    app: FastAPI, client: httpx.AsyncClient, user: User
) -> None:
    originals = [
        ("PNG", image_bytes("PNG", (80, 60))),
        ("JPEG", sideways_jpeg()),
        ("GIF", image_bytes("GIF", (80, 60))),
        ("WEBP", image_bytes("WEBP", (80, 60))),
    ]
    for fmt, original in originals:
        for seed in range(8):
            response = await upload(app, client, user, garbled(original, seed), f"x.{fmt}")
            assert response.status_code in (200, 422), (fmt, seed, response.text)
            if response.status_code == 422:
                assert response.json() == {"detail": NOT_A_PICTURE}


async def test_a_picture_over_5_mb_is_413(
    app: FastAPI, client: httpx.AsyncClient, user: User
) -> None:
    just_over = image_bytes("PNG", (16, 16)) + b"\0" * FIVE_MB  # 5 MB and then some
    far_over = b"\0" * (8 * 1024 * 1024)

    for data in (just_over, far_over):
        response = await upload(app, client, user, data)
        assert response.status_code == 413, len(data)
        assert "larger than 5" in response.json()["detail"]
    assert (await client.get(f"/api/users/{user.id}")).json()["image_file"] is None


async def test_a_picture_of_exactly_5_mb_is_not_refused_for_size(
    app: FastAPI, client: httpx.AsyncClient, user: User
) -> None:
    png = image_bytes("PNG", (16, 16))
    exactly = png + b"\0" * (FIVE_MB - len(png))  # trailing bytes after IEND are ignored

    response = await upload(app, client, user, exactly)

    assert response.status_code == 200, response.text
    image_path = response.json()["image_path"]
    with Image.open(stored(app, image_path)) as picture:
        assert (picture.format, picture.size) == ("JPEG", (256, 256))
    assert (await client.get(f"/api/users/{user.id}")).json()["image_path"] == image_path


async def test_picture_routes_need_a_token(client: httpx.AsyncClient) -> None:
    uploaded = await client.patch(
        "/api/users/me/picture", files={"file": ("me.png", image_bytes(), "image/png")}
    )
    removed = await client.delete("/api/users/me/picture")

    for response in (uploaded, removed):
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"


async def test_the_account_page_uploads_and_removes_a_picture(
    app: FastAPI, client: httpx.AsyncClient, user: User
) -> None:
    await browser_login(client, user)

    uploaded = await submit(
        client, "/account/picture", files={"picture": ("me.jpg", image_bytes("JPEG"), "image/jpeg")}
    )

    assert uploaded.status_code == 303
    assert uploaded.headers["location"] == "/account"
    page = await client.get("/account")
    assert "Your picture is updated." in page.text
    image_path = (await client.get(f"/api/users/{user.id}")).json()["image_path"]
    picture = stored(app, image_path)
    assert picture.exists()
    assert f'src="{image_path}"' in page.text  # in the header and on the page

    removed = await submit(client, "/account/picture/delete")

    assert removed.status_code == 303
    page = await client.get("/account")
    assert "Your picture is removed." in page.text
    assert not picture.exists()
    assert image_path not in page.text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"plain text, not an image", NOT_A_PICTURE),
        (b"\0" * (FIVE_MB + 1), "The picture is larger than 5 MB"),
    ],
    ids=["not-an-image", "too-big"],
)
async def test_a_failed_upload_shows_the_error_on_the_account_page_at_its_own_address(
    app: FastAPI, client: httpx.AsyncClient, user: User, data: bytes, message: str
) -> None:
    await browser_login(client, user)

    response = await submit(
        client, "/account/picture", files={"picture": ("me.png", data, "image/png")}
    )

    # Post/Redirect/Get: the page with the error is /account, so a reload cannot 405.
    assert response.status_code == 303
    assert response.headers["location"] == "/account"
    page = await client.get("/account")
    assert page.status_code == 200
    assert read_form(page.text).errors == {"picture": message}
    assert read_form((await client.get("/account")).text).errors == {}  # shown once
    assert (await client.get(f"/api/users/{user.id}")).json()["image_file"] is None


@pytest.mark.parametrize("form", ["picture", "profile", "password"])
async def test_opening_a_form_address_shows_the_account_page(
    client: httpx.AsyncClient, user: User, form: str
) -> None:
    await browser_login(client, user)

    response = await client.get(f"/account/{form}")

    assert response.status_code == 303
    assert response.headers["location"] == "/account"
