"""The files crawlers and browsers ask for at the site's root: /robots.txt and /favicon.ico."""

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, PlainTextResponse

from fastblog.dependencies import SettingsDep
from fastblog.web.urls import site_url

FAVICON = Path(__file__).parent.parent / "static" / "img" / "favicon.ico"
# Pages behind a login or for writing: nothing there for a search engine.
PRIVATE_PATHS = ("/account", "/posts/new", "/reset-password", "/api/", "/lab/")

router = APIRouter(include_in_schema=False)


@router.get("/robots.txt", response_class=PlainTextResponse)
async def robots(request: Request, settings: SettingsDep) -> str:
    """Crawl everything but private pages; the sitemap lists what there is."""
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in PRIVATE_PATHS)]
    lines += ["", f"Sitemap: {site_url(request, settings)}/sitemap.xml"]
    return "\n".join(lines) + "\n"


@router.get("/favicon.ico")
async def favicon() -> FileResponse:
    """The icon browsers fetch by themselves (pages link /static/img/favicon.svg too)."""
    return FileResponse(
        FAVICON, media_type="image/x-icon", headers={"Cache-Control": "public, max-age=86400"}
    )
