"""`POST /posts/pictures`: the post form's drag-and-drop and paste (static/js/editor.js) upload
with the browser's session and CSRF token, and get the picture back as JSON. Without
JavaScript the form's own "Upload picture" button does the same (fastblog.posts.forms)."""

from typing import Annotated

from fastapi import File, Form, UploadFile, status
from fastapi.responses import JSONResponse

from fastblog.accounts.dependencies import LoggedInDep
from fastblog.accounts.roles import Role
from fastblog.dependencies import ResourcesDep
from fastblog.exceptions import DomainError
from fastblog.media import service
from fastblog.media.api import MAX_ALT_CHARS, read_picture
from fastblog.media.images import MAX_PIXELS
from fastblog.routing import api_router
from fastblog.web.session import CsrfProtected

router = api_router(tags=["media"])


@router.post("/posts/pictures", include_in_schema=False, dependencies=[CsrfProtected])
async def upload_from_the_editor(
    user: LoggedInDep,
    resources: ResourcesDep,
    file: Annotated[UploadFile, File()],
    alt: Annotated[str, Form(max_length=MAX_ALT_CHARS)] = "",
) -> JSONResponse:
    """A picture dropped or pasted into the post form's content: the picture, or
    {"detail": why not}."""
    if not user.at_least(Role.CONTRIBUTOR):
        return JSONResponse({"detail": "Readers cannot upload pictures."}, status_code=403)
    try:
        data = await read_picture(file, max_bytes=resources.settings.max_picture_bytes)
        picture = await service.save_picture(
            resources.database,
            resources.media,
            resources.process_pool,
            owner_id=user.id,
            data=data,
            alt=" ".join(alt.split()),
            max_pixels=MAX_PIXELS,
        )
    except DomainError as exc:
        return JSONResponse({"detail": exc.message}, status_code=exc.status_code)
    return JSONResponse(picture.model_dump(), status_code=status.HTTP_201_CREATED)
