"""Profile pictures: verified, oriented, cropped to a square and stored in the media store
(MEDIA_DIR, or the bucket every host shares).

Decoding and resizing an image is CPU-bound (tens of milliseconds for a phone photo).
On the event loop it would stall every request; in a thread it would hold the GIL
for much of that time. So `make_square_picture` runs in the lifespan's process pool,
which is why it is a plain top-level function of bytes to bytes (it must pickle).
"""

import asyncio
import secrets
import warnings
from io import BytesIO

from fastapi import UploadFile
from PIL import Image, ImageOps, UnidentifiedImageError

from fastblog.accounts.models import User
from fastblog.accounts.service import get_user, set_picture
from fastblog.db import FOR_UPDATE
from fastblog.exceptions import InvalidInputError, NotAuthenticatedError, TooLargeError
from fastblog.limits import readable_size
from fastblog.media.store import picture_key
from fastblog.resources import Resources

PICTURE_SIZE = 256
ACCEPTED_FORMATS = ("JPEG", "PNG", "GIF", "WEBP")
MAX_PIXELS = 50_000_000  # refuse decompression bombs: a small file that unpacks to gigabytes


class InvalidPictureError(InvalidInputError):
    def __init__(self, message: str) -> None:
        super().__init__(message, field="picture")


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
        raise TooLargeError(
            f"The picture is larger than {readable_size(max_bytes)}", field="picture"
        )
    if not data:
        raise InvalidInputError("The file is empty", field="picture")
    return data


async def store_picture(resources: Resources, data: bytes) -> str:
    """Process the upload in the process pool and save it; returns the new file name."""
    loop = asyncio.get_running_loop()
    # Decoding and resizing is CPU work: in the process pool, never on the event loop.
    jpeg = await loop.run_in_executor(resources.process_pool, make_square_picture, data)
    name = f"{secrets.token_urlsafe(16)}.jpg"
    await resources.media.save(picture_key(name), jpeg, content_type="image/jpeg")
    return name


async def remove_picture(resources: Resources, name: str | None) -> None:
    if name:
        await resources.media.delete(picture_key(name))


async def replace_picture(resources: Resources, *, user_id: int, data: bytes) -> User:
    """Store the new picture, point the account at it, then delete the old file."""
    name = await store_picture(resources, data)  # slow part first, outside the write lock
    try:
        async with resources.database.transaction() as session:
            user = await get_user(session, user_id, lock=FOR_UPDATE)
            if user is None:  # deleted since the request was authenticated
                raise NotAuthenticatedError("Invalid or expired token")
            previous = await set_picture(session, user=user, image_file=name)
    except BaseException:
        await remove_picture(resources, name)
        raise
    await remove_picture(resources, previous)
    return user


async def clear_picture(resources: Resources, *, user_id: int) -> User:
    """Back to the default avatar; the uploaded file is deleted."""
    async with resources.database.transaction() as session:
        user = await get_user(session, user_id, lock=FOR_UPDATE)
        if user is None:  # deleted since the request was authenticated
            raise NotAuthenticatedError("Invalid or expired token")
        previous = await set_picture(session, user=user, image_file=None)
    await remove_picture(resources, previous)
    return user
