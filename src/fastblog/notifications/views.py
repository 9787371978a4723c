"""The notifications page, and its "mark all as read" form."""

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response

from fastblog.accounts.dependencies import LoggedInDep
from fastblog.db import utcnow
from fastblog.dependencies import DatabaseDep, IdCursorDep
from fastblog.notifications import queries
from fastblog.params import MAX_ID
from fastblog.routing import api_router
from fastblog.web.session import CsrfProtected, redirect
from fastblog.web.templating import templates

router = api_router(include_in_schema=False, default_response_class=HTMLResponse)

PER_PAGE = 20


@router.get("/notifications", name="notifications")
async def notifications(
    request: Request, user: LoggedInDep, db: DatabaseDep, cursor: IdCursorDep
) -> HTMLResponse:
    """Your notifications, newest first: comments on your posts, new followers, likes."""
    shown, next_cursor = await queries.fetch_page(
        db, user_id=user.id, before=cursor, limit=PER_PAGE
    )
    context = {"notifications": shown, "next_cursor": next_cursor, "first_page": cursor is None}
    return templates.TemplateResponse(request, "notifications/list.html", context)


@router.post("/notifications/read", dependencies=[CsrfProtected])
async def mark_read(
    user: LoggedInDep,
    db: DatabaseDep,
    up_to: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None,
) -> Response:
    """Mark your notifications read, up to the newest the page showed."""
    await queries.mark_read(db, user_id=user.id, up_to=up_to, now=utcnow())
    return redirect("/notifications")
