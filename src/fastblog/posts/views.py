"""HTML pages for reading and writing posts."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from fastblog.accounts.dependencies import (
    LoggedInDep,
    LoggedInForWriteDep,
    PageUserDep,
    UserDep,
    forbidden,
)
from fastblog.db import utcnow
from fastblog.dependencies import DatabaseDep, SettingsDep, WriteSessionDep
from fastblog.pagination import PageLinks
from fastblog.params import PageNumber
from fastblog.posts import service
from fastblog.posts.dependencies import PostDep, PostForWriteDep
from fastblog.posts.models import Post
from fastblog.posts.queries import fetch_page, insert_post
from fastblog.posts.schemas import PostReplace
from fastblog.web.session import CsrfProtected, field_errors, flash, form_values, redirect
from fastblog.web.templating import templates

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


async def get_own_post(user: LoggedInForWriteDep, post: PostForWriteDep) -> Post:
    """The post, for its author: anyone else gets a 403 page."""
    if post.user_id != user.id:
        raise forbidden("Only the author can change this post.")
    return post


OwnPostDep = Annotated[Post, Depends(get_own_post)]


def post_form(
    request: Request,
    *,
    action: str,
    heading: str,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {"action": action, "heading": heading, "values": values, "errors": errors or {}}
    return templates.TemplateResponse(request, "posts/form.html", context, status_code=status_code)


@router.get("/", name="home")
@router.get("/posts", name="posts")
async def home(
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
    viewer: PageUserDep,
    page: PageNumber = 1,
) -> HTMLResponse:
    """The newest posts, a page at a time."""
    per_page = settings.posts_per_page
    skip = (page - 1) * per_page
    posts, total = await fetch_page(db, skip=skip, limit=per_page)
    links = PageLinks(number=page, per_page=per_page, total=total)
    return templates.TemplateResponse(
        request, "posts/list.html", {"posts": posts, "links": links, "heading": "Latest posts"}
    )


@router.get("/posts/new", name="new_post")
async def new_post_form(request: Request, user: LoggedInDep) -> HTMLResponse:
    """The form to write a post."""
    return post_form(request, action="/posts/new", heading="New post", values={})


@router.post("/posts/new", dependencies=[CsrfProtected])
async def create_post(request: Request, user: LoggedInDep, db: DatabaseDep) -> Response:
    """Publish the post and show it."""
    values = form_values(await request.form(), "title", "content")
    try:
        data = PostReplace.model_validate(values)
    except ValidationError as exc:
        return post_form(
            request,
            action="/posts/new",
            heading="New post",
            values=values,
            errors=field_errors(exc),
            status_code=422,
        )
    # The same single statement as POST /api/posts.
    post = await insert_post(
        db,
        title=data.title,
        content=data.content,
        author_id=user.id,
        auth_version=user.auth_version,
        now=utcnow(),
    )
    if post is None:  # the account was deleted meanwhile
        raise forbidden("Your account no longer exists.")
    flash(request, "Your post is published.")
    return redirect(f"/posts/{post['id']}")


@router.get("/posts/{post_id}", name="post_detail")
async def post_detail(request: Request, viewer: PageUserDep, post: PostDep) -> HTMLResponse:
    """One post on its own page."""
    # The viewer is loaded first, so a 404 page still shows who is logged in.
    return templates.TemplateResponse(request, "posts/detail.html", {"post": post})


@router.get("/posts/{post_id}/edit", name="edit_post")
async def edit_post_form(request: Request, post: OwnPostDep) -> HTMLResponse:
    """The form to change your post."""
    values = {"title": post.title, "content": post.content}
    return post_form(request, action=f"/posts/{post.id}/edit", heading="Edit post", values=values)


@router.post("/posts/{post_id}/edit", dependencies=[CsrfProtected])
async def edit_post(request: Request, post: OwnPostDep, session: WriteSessionDep) -> Response:
    """Save the changes and show the post."""
    values = form_values(await request.form(), "title", "content")
    try:
        data = PostReplace.model_validate(values)
    except ValidationError as exc:
        return post_form(
            request,
            action=f"/posts/{post.id}/edit",
            heading="Edit post",
            values=values,
            errors=field_errors(exc),
            status_code=422,
        )
    await service.update_post(session, post=post, changes=data.model_dump())
    flash(request, "Your post is updated.")
    return redirect(f"/posts/{post.id}")


@router.get("/posts/{post_id}/delete", name="delete_post")
async def delete_post_confirm(request: Request, post: OwnPostDep) -> HTMLResponse:
    """Ask before deleting."""
    return templates.TemplateResponse(request, "posts/delete.html", {"post": post})


@router.post("/posts/{post_id}/delete", dependencies=[CsrfProtected])
async def delete_post(request: Request, post: OwnPostDep, session: WriteSessionDep) -> Response:
    """Delete the post and go home."""
    await service.delete_post(session, post=post)
    flash(request, "Your post is deleted.", "info")
    return redirect("/")


@router.get("/users/{user_id}/posts", name="user_posts")
async def user_posts(
    request: Request,
    viewer: PageUserDep,  # first, so a 404 page still shows who is logged in
    user: UserDep,
    db: DatabaseDep,
    settings: SettingsDep,
    page: PageNumber = 1,
) -> HTMLResponse:
    """Everything one user has written, newest first."""
    per_page = settings.posts_per_page
    skip = (page - 1) * per_page
    posts, total = await fetch_page(db, skip=skip, limit=per_page, user_id=user.id)
    links = PageLinks(number=page, per_page=per_page, total=total)
    return templates.TemplateResponse(
        request, "users/posts.html", {"user": user, "posts": posts, "links": links}
    )
