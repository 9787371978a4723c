"""`GET /media/{key}`: from MEDIA_DIR (`MediaFiles`), or, when pictures live in a bucket, a
redirect to the object.

A redirect rather than streaming the object through the app: the object store (or the CDN in
front of it) sends the bytes, so an app worker spends one presigning (a local HMAC, no network)
per picture instead of holding a connection to the bucket while a slow client downloads; the
bucket stays private, and the address in pages and the API stays this site's `/media/...`.
"""

import os

from fastapi.responses import RedirectResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from fastblog.dependencies import ResourcesDep
from fastblog.exceptions import NotFoundError
from fastblog.media.service import IMMUTABLE
from fastblog.media.store import MEDIA_KEY, MEDIA_URL_PREFIX, S3MediaStore
from fastblog.routing import api_router

router = api_router(tags=["users"])


@router.get(f"{MEDIA_URL_PREFIX}/{{key:path}}", include_in_schema=False)
async def media_file(key: str, resources: ResourcesDep) -> RedirectResponse:
    """An uploaded picture: redirected to the bucket, for a while shorter than the URL lives."""
    store = resources.media
    if not isinstance(store, S3MediaStore) or not MEDIA_KEY.fullmatch(key):
        raise NotFoundError("No such file")
    # Cached by the browser for less than the presigned URL lives, so it never replays a dead one.
    max_age = store.presign_seconds // 2
    return RedirectResponse(
        await store.url(key),
        status_code=307,
        headers={"Cache-Control": f"private, max-age={max_age}"},
    )


class MediaFiles(StaticFiles):
    """MEDIA_DIR's files; a post's pictures, whose names change with their bytes, cached for
    good (profile pictures keep Starlette's ETag and Last-Modified)."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        if self.get_path(scope).startswith(f"pictures{os.sep}"):
            response.headers["Cache-Control"] = IMMUTABLE
        return response
