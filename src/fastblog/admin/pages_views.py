"""A static page at /{slug}: this router is added after every other route and mount."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import HTMLResponse

from fastblog.accounts.dependencies import get_page_user
from fastblog.accounts.models import User
from fastblog.admin.page_schemas import SLUG, SLUG_CHARS
from fastblog.dependencies import DatabaseDep
from fastblog.site.pages import fetch_page
from fastblog.web.templating import templates

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


async def viewer_if_any(request: Request, db: DatabaseDep) -> User | None:
    """The logged-in user, for the header; none on the paths the session middleware skips
    (fastblog.web.session: /healthy starts like /health), which this catch-all also gets."""
    if "session" not in request.scope:
        request.state.user = None
        return None
    return await get_page_user(request, db)


@router.get("/{slug}", name="page")
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
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Page not found")
    return templates.TemplateResponse(request, "site/page.html", {"page": page})
