"""The moderation queue in the browser: /admin/comments lists the comments waiting for
approval (editors, admins and the owner), each with Approve and Delete (CSRF-protected
forms, Post/Redirect/Get)."""

from typing import Annotated

from fastapi import Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from fastblog.accounts.dependencies import LoggedInDep
from fastblog.comments import service
from fastblog.comments.policy import moderates
from fastblog.comments.queries import count_pending, fetch_pending
from fastblog.dependencies import DatabaseDep, KeysetDep
from fastblog.exceptions import ForbiddenError
from fastblog.params import MAX_ID
from fastblog.routing import api_router
from fastblog.web.session import CsrfProtected, flash, redirect, safe_next
from fastblog.web.templating import templates

router = api_router(include_in_schema=False, default_response_class=HTMLResponse)

QUEUE_PAGE = 20
CommentId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.get("/admin/comments", name="admin_comments")
async def waiting_comments(
    request: Request, user: LoggedInDep, db: DatabaseDep, cursor: KeysetDep
) -> HTMLResponse:
    """Comments waiting for approval, oldest first."""
    if not moderates(user.role):
        raise ForbiddenError(service.MODERATORS_ONLY)
    comments, next_cursor = await fetch_pending(db, after=cursor, limit=QUEUE_PAGE)
    context = {
        "comments": comments,
        "waiting": await count_pending(db),
        "next_cursor": next_cursor,
    }
    return templates.TemplateResponse(request, "comments/admin.html", context)


@router.post("/admin/comments/{comment_id}/approve", dependencies=[CsrfProtected])
async def approve(
    request: Request,
    user: LoggedInDep,
    db: DatabaseDep,
    comment_id: CommentId,
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Approve the comment and go back to the queue (or to the post it was approved on)."""
    await service.approve_comment(
        db, comment_id=comment_id, requester_id=user.id, auth_version=user.auth_version
    )
    flash(request, "The comment is approved: everyone can see it.")
    return redirect(safe_next(next or "/admin/comments"))


@router.post("/admin/comments/{comment_id}/delete", dependencies=[CsrfProtected])
async def reject(
    request: Request, user: LoggedInDep, db: DatabaseDep, comment_id: CommentId
) -> Response:
    """Delete (reject) the comment and go back to the queue."""
    await service.reject_comment(
        db, comment_id=comment_id, requester_id=user.id, auth_version=user.auth_version
    )
    flash(request, "The comment is deleted.", "info")
    return redirect("/admin/comments")
