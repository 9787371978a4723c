"""Profile pictures: verified, oriented, cropped to a square and stored under MEDIA_DIR.

Decoding and resizing an image is CPU-bound (tens of milliseconds for a phone photo).
On the event loop it would stall every request; in a thread it would hold the GIL
for much of that time. So `make_square_picture` runs in the lifespan's process pool,
which is why it is a plain top-level function of bytes to bytes (it must pickle).
"""

import asyncio
import secrets
import warnings
from io import BytesIO
from pathlib import Path

import anyio
from fastapi import HTTPException, UploadFile, status
from PIL import Image, ImageOps, UnidentifiedImageError
from starlette.datastructures import State

from fastblog.database import FOR_UPDATE, write_session
from fastblog.users.models import User
from fastblog.users.service import set_picture

PICTURE_SIZE = 256
PICTURES_SUBDIR = "profile_pics"
ACCEPTED_FORMATS = ("JPEG", "PNG", "GIF", "WEBP")
MAX_PIXELS = 50_000_000  # refuse decompression bombs: a small file that unpacks to gigabytes


class InvalidPictureError(ValueError):
    pass


def make_square_picture(data: bytes, size: int = PICTURE_SIZE) -> bytes:
    """Check that `data` is a real image and return it as a square JPEG of `size` pixels."""
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(BytesIO(data), formats=ACCEPTED_FORMATS) as probe:
                probe.verify()  # checks the file's structure; the image must be reopened after
            with Image.open(BytesIO(data), formats=ACCEPTED_FORMATS) as image:
                upright = ImageOps.exif_transpose(image)
                square = ImageOps.fit(_on_white(upright), (size, size), Image.Resampling.LANCZOS)
        except (
            UnidentifiedImageError,
            Image.DecompressionBombError,
            Image.DecompressionBombWarning,
            OSError,
            SyntaxError,
            ValueError,
        ) as exc:
            raise InvalidPictureError(
                "The file is not a picture we can read: upload a JPEG, PNG, GIF or WebP image."
            ) from exc
    output = BytesIO()
    square.save(output, "JPEG", quality=88, optimize=True)
    return output.getvalue()


def _on_white(image: Image.Image) -> Image.Image:
    """Flatten transparency onto white (JPEG has no alpha channel)."""
    if image.mode in ("RGBA", "LA", "P"):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


async def read_upload(upload: UploadFile, *, max_bytes: int) -> bytes:
    data = await upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            detail=f"The picture is larger than {max_bytes // (1024 * 1024)} MB",
        )
    if not data:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail="The file is empty")
    return data


async def store_picture(state: State, data: bytes) -> str:
    """Process the upload in the process pool and save it; returns the new file name."""
    loop = asyncio.get_running_loop()
    try:
        jpeg = await loop.run_in_executor(state.process_pool, make_square_picture, data)
    except InvalidPictureError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from exc
    name = f"{secrets.token_urlsafe(16)}.jpg"
    folder = anyio.Path(picture_folder(state.settings.media_dir))
    await folder.mkdir(parents=True, exist_ok=True)
    await (folder / name).write_bytes(jpeg)
    return name


async def remove_picture(state: State, name: str | None) -> None:
    if name:
        await anyio.Path(picture_folder(state.settings.media_dir) / name).unlink(missing_ok=True)


def picture_folder(media_dir: Path) -> Path:
    return media_dir / PICTURES_SUBDIR


async def replace_picture(state: State, *, user_id: int, data: bytes) -> User:
    """Store the new picture, point the account at it, then delete the old file."""
    name = await store_picture(state, data)  # slow part first, outside the write lock
    try:
        async with write_session(state) as session:
            user = await session.get(User, user_id, with_for_update=FOR_UPDATE)
            if user is None:
                raise HTTPException(status.HTTP_404_NOT_FOUND, detail="User not found")
            previous = await set_picture(session, user=user, image_file=name)
    except BaseException:
        await remove_picture(state, name)
        raise
    await remove_picture(state, previous)
    return user


async def clear_picture(state: State, *, user_id: int) -> User:
    """Back to the default avatar; the uploaded file is deleted."""
    async with write_session(state) as session:
        user = await session.get(User, user_id, with_for_update=FOR_UPDATE)
        if user is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail="User not found")
        previous = await set_picture(session, user=user, image_file=None)
    await remove_picture(state, previous)
    return user
