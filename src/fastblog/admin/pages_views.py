"""A static page at /{slug}: create_app adds this route after every other route and mount."""

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.responses import HTMLResponse

from fastblog.accounts.dependencies import get_page_user
from fastblog.accounts.models import User
from fastblog.admin.page_schemas import SLUG, SLUG_CHARS
from fastblog.dependencies import DatabaseDep
from fastblog.errors import methods_of_other_routes
from fastblog.site.pages import fetch_page
from fastblog.web.templating import templates


async def viewer_if_any(request: Request) -> User | None:
    """The logged-in user, for the header; none on the paths the session middleware skips
    (fastblog.web.session: /healthy starts like /health), which this catch-all also gets."""
    if "session" not in request.scope:
        request.state.user = None
        return None
    return await get_page_user(request)


async def static_page(
    request: Request,
    viewer: Annotated[
        User | None, Depends(viewer_if_any)
    ],  # first, so a 404 page still shows who is logged in
    slug: str,
    db: DatabaseDep,
) -> HTMLResponse:
    """A static page (About, Contact), its Markdown rendered like a post's."""
    page = await fetch_page(db, slug) if len(slug) <= SLUG_CHARS and SLUG.fullmatch(slug) else None
    if page is None:
        if methods_of_other_routes(request):  # /logout: a route of its own, not for GET
            raise HTTPException(status.HTTP_405_METHOD_NOT_ALLOWED)
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Page not found")
    return templates.TemplateResponse(request, "site/page.html", {"page": page})
