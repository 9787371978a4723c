"""The post page, with its comments, and the comment forms.

The post page lives here, a layer above fastblog.posts: it shows the post (fastblog.posts
builds that part) and its comments, fetched with its neighbours in one statement.
"""

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from fastblog.accounts.dependencies import LoggedInDep, PageUserDep
from fastblog.comments import service
from fastblog.comments.queries import fetch_post_page
from fastblog.comments.schemas import MAX_COMMENT_CHARS, CommentCreate
from fastblog.db import utcnow
from fastblog.dependencies import DatabaseDep, KeysetDep, ResourcesDep, SettingsDep
from fastblog.pagination import Keyset
from fastblog.params import MAX_ID
from fastblog.posts.dependencies import PostId, visible_post
from fastblog.posts.meta import post_path
from fastblog.posts.queries import is_visible
from fastblog.posts.views import moved, post_page
from fastblog.web.session import CsrfProtected, field_errors, flash, redirect, safe_next
from fastblog.web.templating import templates
from fastblog.write_limits import COMMENTS

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

COMMENTS_PER_PAGE = 20
CommentId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _page_path(post: dict[str, Any], after: Keyset | None) -> str:
    return post_path(post) + (f"?cursor={quote(after.encode())}" if after else "")


async def _post_page(
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
    post: dict[str, Any],
    *,
    after: Keyset | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The post with a page of its comments and the comment form; a draft or a scheduled
    post (seen by its author only) has neither comments nor neighbours yet."""
    if not is_visible(post, utcnow()):
        return post_page(request, settings, post, status_code=status_code)
    related, comments, next_cursor = await fetch_post_page(
        db, post, after=after, limit=COMMENTS_PER_PAGE
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
        here=_page_path(post, after),
    )


@router.get("/posts/{post_id}/{slug}", name="post_detail")
async def post_detail(
    request: Request,
    viewer: PageUserDep,  # first, so a 404 page still shows who is logged in
    db: DatabaseDep,
    settings: SettingsDep,
    post_id: PostId,
    slug: str,
    cursor: KeysetDep,
) -> Response:
    """One post on its own page, with its comments (`?cursor=` for later ones), its
    neighbours and more by its author; an old slug moves to the current one."""
    if viewer is None:
        post = await visible_post(db, post_id, None)
    else:  # an editor also reads drafts and posts in review
        post = await visible_post(db, post_id, viewer.id, viewer.role)
    if slug != post["slug"]:
        return moved(post_path(post))
    return await _post_page(request, db, settings, post, after=cursor)


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
    try:
        data = CommentCreate(body=body)
    except ValidationError as exc:
        return await _post_page(
            request,
            db,
            resources.settings,
            post,
            form={"body": body},
            errors=field_errors(exc),
            status_code=422,
        )
    async with resources.write_limiter.accepting(COMMENTS, user.id):
        comment = await service.create_comment(
            db,
            resources.process_pool,
            post_id=post_id,
            body=data.body,
            author_id=user.id,
            auth_version=user.auth_version,
            now=utcnow(),
        )
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
