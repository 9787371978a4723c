"""/admin/subscribers (admins and the owner): the counts by site and author, confirmed or
not, the subscriptions themselves, a CSV export and removal."""

from typing import Annotated

from fastapi import Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from fastblog.admin.permissions import PageAdminDep
from fastblog.dependencies import DatabaseDep
from fastblog.newsletter import service
from fastblog.newsletter.api import as_csv
from fastblog.params import MAX_ID
from fastblog.routing import api_router
from fastblog.web.session import CsrfProtected, flash, redirect
from fastblog.web.templating import templates

router = api_router(include_in_schema=False, default_response_class=HTMLResponse)

SHOWN = 500  # subscriptions listed on the page; the export has them all
Scope = Annotated[str, Query(max_length=20, pattern=r"^(site|[0-9]{1,19})?$")]


def _filters(scope: str) -> tuple[int | None, bool]:
    """(author_id, site): one author's, the site's, or (neither) every subscription."""
    if scope == "site":
        return None, True
    return (int(scope) if scope else None), False


@router.get("/admin/subscribers", name="admin_subscribers")
async def subscribers_page(
    request: Request, admin: PageAdminDep, db: DatabaseDep, scope: Scope = ""
) -> HTMLResponse:
    """Subscribers by site and author, and each subscription with a Remove button."""
    author_id, site = _filters(scope)
    context = {
        "counts": await service.counts(db),
        "subscribers": await service.subscribers(db, author_id=author_id, site=site, limit=SHOWN),
        "scope": scope,
        "shown": SHOWN,
    }
    return templates.TemplateResponse(request, "newsletter/admin.html", context)


@router.get("/admin/subscribers.csv")
async def export(admin: PageAdminDep, db: DatabaseDep, scope: Scope = "") -> Response:
    """Every subscription (of the scope chosen) as CSV."""
    author_id, site = _filters(scope)
    rows = await service.subscribers(db, author_id=author_id, site=site)
    return Response(
        as_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="subscribers.csv"'},
    )


@router.post("/admin/subscribers/{subscription_id}/delete", dependencies=[CsrfProtected])
async def remove(
    request: Request,
    admin: PageAdminDep,
    db: DatabaseDep,
    subscription_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    """Remove a subscription and come back to the list."""
    removed = await service.remove(db, subscription_id)
    flash(request, "The subscription is removed." if removed else "It was already gone.", "info")
    return redirect("/admin/subscribers")
