"""The post page, with its comments, and the comment forms.

The post page lives here, a layer above fastblog.posts: it shows the post (fastblog.posts
builds that part) and its comments, fetched with its neighbours in one statement.
"""

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Form, Path, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from fastblog.accounts.dependencies import LoggedInDep, PageUserDep
from fastblog.accounts.models import User
from fastblog.comments import service
from fastblog.comments.models import PENDING
from fastblog.comments.policy import (
    CLOSED_POST,
    CLOSED_SITE,
    CommentPolicy,
    comment_policy,
    moderates,
)
from fastblog.comments.queries import ANYONE, Viewer, fetch_post_page
from fastblog.comments.schemas import MAX_COMMENT_CHARS, CommentCreate
from fastblog.db import utcnow
from fastblog.dependencies import DatabaseDep, KeysetDep, ResourcesDep, resources_of
from fastblog.pagination import Keyset
from fastblog.params import MAX_ID
from fastblog.posts.dependencies import PostId, visible_post
from fastblog.posts.meta import post_path
from fastblog.posts.queries import is_visible
from fastblog.posts.views import moved, post_page
from fastblog.routing import api_router
from fastblog.web.honeypot import CAUGHT, caught
from fastblog.web.session import CsrfProtected, field_errors, flash, redirect, safe_next
from fastblog.web.templating import templates
from fastblog.write_limits import COMMENTS

router = api_router(include_in_schema=False, default_response_class=HTMLResponse)

COMMENTS_PER_PAGE = 20
WAITING = (
    "Your comment is waiting for approval: you can see it, and everyone will once an editor "
    "approves it."
)
CommentId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _page_path(post: dict[str, Any], after: Keyset | None) -> str:
    return post_path(post) + (f"?cursor={quote(after.encode())}" if after else "")


def _viewer(user: User | None) -> Viewer:
    return Viewer(user_id=user.id, sees_all=moderates(user.role)) if user else ANYONE


def _closed(policy: CommentPolicy, post: dict[str, Any]) -> str | None:
    """Why the post takes no new comments, in the words the form shows; None if it does."""
    if policy is CommentPolicy.CLOSED:
        return CLOSED_SITE
    return None if post["comments_enabled"] else CLOSED_POST


async def _post_page(
    request: Request,
    resources: ResourcesDep,
    post: dict[str, Any],
    *,
    viewer: User | None,
    after: Keyset | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The post with a page of the comments this viewer may see and the comment form (or
    why comments are closed); a draft or a scheduled post (seen by its author only) has
    neither comments nor neighbours yet."""
    settings = resources.settings
    if not is_visible(post, utcnow()):
        return post_page(request, settings, post, status_code=status_code)
    related, comments, next_cursor = await fetch_post_page(
        resources.database, post, after=after, limit=COMMENTS_PER_PAGE, viewer=_viewer(viewer)
    )
    return post_page(
        request,
        settings,
        post,
        related=related,
        status_code=status_code,
        comments=comments,
        comments_next=next_cursor,
        comments_later=after is not None,
        comment_form=form or {},
        comment_errors=errors or {},
        comment_limit=MAX_COMMENT_CHARS,
        comments_closed=_closed(await comment_policy(resources), post),
        moderator=viewer is not None and moderates(viewer.role),
        here=_page_path(post, after),
    )


@router.get("/posts/{post_id}/{slug}", name="post_detail")
async def post_detail(
    request: Request,
    viewer: PageUserDep,  # first, so a 404 page still shows who is logged in
    post_id: PostId,
    slug: str,
    cursor: KeysetDep,
) -> Response:
    """One post on its own page, with its comments (`?cursor=` for later ones), its
    neighbours and more by its author; an old slug moves to the current one."""
    resources = resources_of(request)  # not ResourcesDep: a node fewer (resources_of says why)
    db = resources.database
    if viewer is None:
        post = await visible_post(db, post_id, None)
    else:  # an editor also reads drafts and posts in review
        post = await visible_post(db, post_id, viewer.id, viewer.role)
    if slug != post["slug"]:
        return moved(post_path(post))
    return await _post_page(request, resources, post, viewer=viewer, after=cursor)


def _read_comment(form: Any, body: str) -> tuple[CommentCreate | None, dict[str, str]]:
    """The comment, or the errors to show beside the box (the text is kept either way)."""
    if caught(form):  # the honeypot (fastblog.web.honeypot): refused, with the reason
        return None, {"body": CAUGHT}
    try:
        return CommentCreate(body=body), {}
    except ValidationError as exc:
        return None, field_errors(exc)


@router.post("/posts/{post_id}/comments", dependencies=[CsrfProtected])
async def add_comment(
    request: Request,
    user: LoggedInDep,
    resources: ResourcesDep,
    post_id: PostId,
    body: Annotated[str, Form()] = "",
) -> Response:
    """Post the comment and show it; a refused one comes back in the form with the reason."""
    db = resources.database
    post = await visible_post(db, post_id, user.id)
    data, errors = _read_comment(await request.form(), body)
    if data is None:
        return await _post_page(
            request,
            resources,
            post,
            viewer=user,
            form={"body": body},
            errors=errors,
            status_code=422,
        )
    policy = await comment_policy(resources)
    async with resources.write_limiter.accepting(COMMENTS, user.id):
        comment = await service.create_comment(
            db,
            resources.process_pool,
            post_id=post_id,
            body=data.body,
            author_id=user.id,
            auth_version=user.auth_version,
            now=utcnow(),
            policy=policy,
        )
    if comment["status"] == PENDING:
        flash(request, WAITING, "info")
    else:
        flash(request, "Your comment is posted.")
    # The first page shows it while the post has fewer comments than a page holds; after
    # that, the page that starts at it (a cursor just before it).
    before = Keyset(at=comment["created_at"], id=comment["id"] - 1)
    after = before if post["comments"] + 1 > COMMENTS_PER_PAGE else None
    return redirect(f"{_page_path(post, after)}#comment-{comment['id']}")


@router.get("/posts/{post_id}/comments/{comment_id}/delete", name="delete_comment")
async def delete_comment_confirm(
    request: Request,
    user: LoggedInDep,
    db: DatabaseDep,
    post_id: PostId,
    comment_id: CommentId,
    next: str = "",
) -> HTMLResponse:
    """Ask before deleting, as for a post."""
    comment = await service.comment_to_delete(
        db,
        post_id=post_id,
        comment_id=comment_id,
        requester_id=user.id,
        auth_version=user.auth_version,
    )
    back = safe_next(next or f"/posts/{post_id}")
    return templates.TemplateResponse(
        request, "comments/delete.html", {"comment": comment, "next": back}
    )


@router.post("/posts/{post_id}/comments/{comment_id}/delete", dependencies=[CsrfProtected])
async def delete_comment(
    request: Request,
    user: LoggedInDep,
    db: DatabaseDep,
    post_id: PostId,
    comment_id: CommentId,
    next: Annotated[str, Form()] = "",
) -> Response:
    """Delete the comment (yours, one on your post, or any for an editor) and go back."""
    await service.delete_comment(
        db,
        post_id=post_id,
        comment_id=comment_id,
        requester_id=user.id,
        auth_version=user.auth_version,
    )
    flash(request, "The comment is deleted.", "info")
    return redirect(safe_next(next or f"/posts/{post_id}") + "#comments")
