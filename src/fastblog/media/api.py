"""`POST /api/media`: upload a picture for a post."""

from typing import Annotated

from fastapi import File, Form, UploadFile, status
from starlette import datastructures

from fastblog.accounts.dependencies import TokenViewerDep, forbidden
from fastblog.accounts.roles import Role, at_least
from fastblog.dependencies import ResourcesDep
from fastblog.exceptions import InvalidInputError, TooLargeError
from fastblog.limits import readable_size
from fastblog.media import service
from fastblog.media.images import MAX_PIXELS
from fastblog.media.schemas import Picture
from fastblog.params import UNAVAILABLE, Responses, error, invalid
from fastblog.routing import api_router

router = api_router(prefix="/api/media", tags=["media"], responses=UNAVAILABLE)

MAX_ALT_CHARS = 500
REFUSED: Responses = {
    status.HTTP_401_UNAUTHORIZED: error("Missing, invalid or expired token"),
    status.HTTP_403_FORBIDDEN: error("Readers cannot upload pictures"),
    status.HTTP_413_CONTENT_TOO_LARGE: error("The picture is over the size limit"),
}
RESPONSES = REFUSED | invalid("Not a picture, or too many pixels")


async def read_picture(upload: datastructures.UploadFile, *, max_bytes: int) -> bytes:
    data = await upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise TooLargeError(
            f"The picture is larger than {readable_size(max_bytes)}: make it smaller.",
            field="file",
        )
    if not data:
        raise InvalidInputError("The file is empty.", field="file")
    return data


@router.post("", status_code=status.HTTP_201_CREATED, responses=RESPONSES)
async def upload_picture(
    viewer: TokenViewerDep,
    resources: ResourcesDep,
    file: Annotated[UploadFile, File(description="A JPEG, PNG, WebP or GIF picture")],
    alt: Annotated[str, Form(max_length=MAX_ALT_CHARS)] = "",
) -> Picture:
    """Upload a picture for a post: stored without its metadata, in several widths."""
    if not at_least(viewer.role, Role.CONTRIBUTOR):
        raise forbidden("Readers cannot upload pictures: ask the site's owner for a role.")
    data = await read_picture(file, max_bytes=resources.settings.max_picture_bytes)
    return await service.save_picture(
        resources.database,
        resources.media,
        resources.process_pool,
        owner_id=viewer.id,
        data=data,
        alt=" ".join(alt.split()),
        max_pixels=MAX_PIXELS,
    )
