"""The files under /static, each also at a name that carries a digest of its bytes.

Templates link `static_url("css/main.css")`, i.e. `/static/css/main.<digest>.css`: browsers and
CDNs keep that for a year without asking again (`immutable`), and a deploy that changes the file
changes its URL. The plain name keeps working, asked again each time (`no-cache`, with
Starlette's ETag and Last-Modified); so does a digest a deploy replaced (a page rendered before
it), which gets today's file, not to be kept.
"""

import hashlib
import re
from functools import cache
from pathlib import Path

from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

STATIC_DIR = Path(__file__).parent.parent / "static"
STATIC_PREFIX = "/static/"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
DIGEST_LENGTH = 12  # hex digits: 48 bits tell a file's versions apart
_HASHED = re.compile(rf"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{{{DIGEST_LENGTH}}})(?P<suffix>\.\w+)$")


@cache
def static_digests(directory: Path = STATIC_DIR) -> dict[str, str]:
    """Every file's digest by its path under the directory (`css/main.css`), read once per
    process: create_app calls it before serving, so no page reads a file on the event loop."""
    return {
        path.relative_to(directory).as_posix(): hashlib.blake2b(
            path.read_bytes(), digest_size=DIGEST_LENGTH // 2
        ).hexdigest()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def static_url(path: str) -> str:
    """The URL of a file under static/, with its digest in the name (a Jinja filter)."""
    digest = static_digests()[path]  # a KeyError names a file that is not there
    stem, dot, suffix = path.rpartition(".")
    return f"{STATIC_PREFIX}{stem}.{digest}.{suffix}" if dot else f"{STATIC_PREFIX}{path}"


class HashedStaticFiles(StaticFiles):
    """Starlette's StaticFiles (ETag, Last-Modified, 304, HEAD, ranges), plus the hashed names."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        match = _HASHED.match(path)
        if match is not None:
            plain = f"{match['stem']}{match['suffix']}"
            current = static_digests().get(plain)
            if current is not None:
                response = await super().get_response(plain, scope)
                response.headers["cache-control"] = (
                    IMMUTABLE if current == match["digest"] else REVALIDATE
                )
                return response
        response = await super().get_response(path, scope)
        response.headers.setdefault("cache-control", REVALIDATE)
        return response
