"""The files crawlers and browsers ask for at the site's root: /robots.txt and /favicon.ico."""

from fastapi import Request, Response
from fastapi.responses import PlainTextResponse
from fastapi.staticfiles import StaticFiles

from fastblog.dependencies import SettingsDep
from fastblog.routing import api_router
from fastblog.web.static_files import STATIC_DIR
from fastblog.web.urls import site_url

# Starlette's StaticFiles answers If-None-Match and If-Modified-Since with a 304.
ICONS = StaticFiles(directory=STATIC_DIR / "img", check_dir=False)
# Pages behind a login or for writing: nothing there for a search engine.
PRIVATE_PATHS = ("/account", "/posts/new", "/reset-password", "/api/", "/lab/")

router = api_router(include_in_schema=False)


@router.get("/robots.txt", response_class=PlainTextResponse)
async def robots(request: Request, settings: SettingsDep) -> str:
    """Crawl everything but private pages; the sitemap lists what there is."""
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in PRIVATE_PATHS)]
    lines += ["", f"Sitemap: {site_url(request, settings)}/sitemap.xml"]
    return "\n".join(lines) + "\n"


@router.get("/favicon.ico")
async def favicon(request: Request) -> Response:
    """The icon browsers fetch by themselves (pages link /static/img/favicon.svg too)."""
    response = await ICONS.get_response("favicon.ico", request.scope)
    # A fixed name, so kept a day rather than for ever; a 304 when asked again unchanged.
    response.headers["cache-control"] = "public, max-age=86400"
    if response.status_code == 200:
        response.headers["content-type"] = "image/x-icon"  # what browsers and crawlers expect
    return response
