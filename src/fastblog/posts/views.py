"""HTML pages for reading and writing posts."""

import re
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from fastblog.accounts.dependencies import (
    LoggedInDep,
    LoggedInForWriteDep,
    PageUserDep,
    UserDep,
    forbidden,
)
from fastblog.accounts.follows import is_following
from fastblog.accounts.models import User
from fastblog.accounts.roles import Role
from fastblog.db import utcnow
from fastblog.dependencies import (
    DatabaseDep,
    ResourcesDep,
    SettingsDep,
    SiteDep,
    WriteSessionDep,
    resources_of,
)
from fastblog.errors import on_http_exception, show_page_user
from fastblog.exceptions import ForbiddenError, InvalidInputError
from fastblog.posts import service
from fastblog.posts.dependencies import (
    PostForWriteDep,
    PostId,
    PostVisibilityDep,
    TagFilter,
    check_post_delete,
    tag_or_none,
    visible_post,
)
from fastblog.posts.forms import (
    CHECKED,
    PICTURE,
    PREVIEW,
    add_picture,
    minute,
    parse_form,
    post_form,
    preview_html,
    saved_message,
    submitted,
)
from fastblog.posts.meta import post_meta, post_path
from fastblog.posts.models import PUBLISHED, Post
from fastblog.posts.paging import OlderPositionDep, Position, PositionDep, page_links
from fastblog.posts.permissions import READERS_DO_NOT_WRITE, check_edit
from fastblog.posts.queries import fetch_drafts, fetch_in_review, fetch_page, is_visible
from fastblog.posts.related import Related
from fastblog.posts.schemas import MAX_CONTENT_CHARS
from fastblog.routing import api_router
from fastblog.site.schemas import SiteSettings
from fastblog.web.session import CsrfProtected, field_errors, flash, redirect
from fastblog.web.templating import templates
from fastblog.web.urls import site_url
from fastblog.write_limits import POSTS

router = api_router(include_in_schema=False, default_response_class=HTMLResponse)


def canonical_url(post: dict[str, Any]) -> str:
    return post_path(post)


def moved(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=status.HTTP_301_MOVED_PERMANENTLY)


async def get_post_to_delete(user: LoggedInForWriteDep, post: PostForWriteDep) -> Post:
    """The post, locked, for its author or an editor (the role as it is now): anyone else
    gets a 403 page (a 404 for a draft)."""
    return check_post_delete(post, user_id=user.id, role=user.role)


async def get_own_post_to_edit(
    user: LoggedInDep, db: DatabaseDep, post_id: PostId
) -> dict[str, Any]:
    """The post for its author or an editor, not locked: an edit renders the Markdown
    before it locks. The status the form asks for is checked when it is sent."""
    post = await visible_post(db, post_id, user.id, user.role)
    check_edit(post, user_id=user.id, role=user.role, status=None)
    return post


def may_publish(user: User, post: dict[str, Any] | None = None) -> bool:
    """Whether the form offers Publish (else Submit for review)."""
    if post is not None and post["user_id"] != user.id:
        return user.at_least(Role.EDITOR)
    return user.at_least(Role.AUTHOR)


PostToDeleteDep = Annotated[Post, Depends(get_post_to_delete)]
OwnPostToEditDep = Annotated[dict[str, Any], Depends(get_own_post_to_edit)]


async def _page_of_posts(
    request: Request,
    db: DatabaseDep,
    at: Position,
    *,
    tag: str | None = None,
    user_id: int | None = None,
    query: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A page of excerpts, and the links to the pages around it."""
    listing = await fetch_page(
        db,
        now=utcnow(),
        skip=at.skip,
        after=at.after,
        before=at.before,
        limit=at.per_page,
        user_id=user_id,
        tag=tag,
        full=False,
    )
    links = page_links(listing, at, request.url.path, query)
    return {"posts": listing.posts, "links": links}


@router.get("/", name="home")
@router.get("/posts", name="posts")
async def home(
    request: Request,
    viewer: PageUserDep,
    at: PositionDep,
    tag: TagFilter = None,
) -> HTMLResponse:
    """The newest posts, a page at a time (?tag= for one tag's)."""
    wanted = tag_or_none(tag) if tag else None
    context = await _page_of_posts(
        request,
        resources_of(request).database,  # not DatabaseDep: a node fewer (resources_of says why)
        at,
        # A text no tag can be matches nothing, like a tag nobody uses.
        tag=wanted or ("" if tag else None),
        query={"tag": tag} if tag else None,
    )
    context["heading"] = f"Posts tagged “{wanted or tag}”" if tag else "Latest posts"
    return templates.TemplateResponse(request, "posts/list.html", context)


@router.get("/tags/{tag}", name="tag")
async def tag_page(request: Request, tag: str, viewer: PageUserDep, at: PositionDep) -> Response:
    """The posts of one tag; 404 for a tag no published post has."""
    wanted = tag_or_none(tag)
    if wanted is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="No post has this tag.")
    if wanted != tag:
        return moved(f"/tags/{quote(wanted)}")
    # Not DatabaseDep: a node fewer (fastblog.dependencies.resources_of says why).
    context = await _page_of_posts(request, resources_of(request).database, at, tag=wanted)
    if context["links"].total == 0:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="No post has this tag.")
    context |= {"heading": f"Posts tagged “{wanted}”", "tag": wanted}
    return templates.TemplateResponse(request, "posts/list.html", context)


@router.get("/drafts", name="drafts")
async def drafts(
    request: Request, user: LoggedInDep, db: DatabaseDep, at: OlderPositionDep
) -> HTMLResponse:
    """Your drafts and scheduled posts: only you can see them. An editor also sees the posts
    waiting for review."""
    if not user.at_least(Role.CONTRIBUTOR):
        raise ForbiddenError(READERS_DO_NOT_WRITE)
    listing = await fetch_drafts(
        db, user_id=user.id, now=utcnow(), skip=at.skip, after=at.after, limit=at.per_page
    )
    links = page_links(listing, at, request.url.path)
    in_review = await fetch_in_review(db) if user.at_least(Role.EDITOR) else []
    context = {"posts": listing.posts, "links": links, "in_review": in_review}
    return templates.TemplateResponse(request, "posts/drafts.html", context)


async def _with_picture(
    request: Request, resources: ResourcesDep, user_id: int, form: dict[str, Any]
) -> HTMLResponse:
    """The form again, its text kept, with the uploaded picture's Markdown line added."""
    values, errors, notice = await add_picture(
        request, resources, owner_id=user_id, values=form["values"]
    )
    return post_form(
        request,
        **(form | {"values": values}),
        errors=errors,
        picture_notice=notice,
        status_code=422 if errors else 200,
    )


@router.get("/posts/new", name="new_post")
async def new_post_form(request: Request, user: LoggedInDep) -> HTMLResponse:
    """The form to write a post (not for a reader)."""
    if not user.at_least(Role.CONTRIBUTOR):
        raise ForbiddenError(READERS_DO_NOT_WRITE)
    return post_form(
        request, action="/posts/new", heading="New post", values={}, can_publish=may_publish(user)
    )


@router.post("/posts/new", dependencies=[CsrfProtected])
async def create_post(
    request: Request,
    user: LoggedInDep,
    resources: ResourcesDep,
    site: SiteDep,
    visibility: PostVisibilityDep,
) -> Response:
    """Save the post (published, scheduled or a draft) and show it; or preview it."""
    if not user.at_least(Role.CONTRIBUTOR):
        raise ForbiddenError(READERS_DO_NOT_WRITE)
    values, button = await submitted(request)
    form: dict[str, Any] = {
        "action": "/posts/new",
        "heading": "New post",
        "values": values,
        "can_publish": may_publish(user),
    }
    if button == PICTURE:
        return await _with_picture(request, resources, user.id, form)
    try:
        data = parse_form(values, button, zone=site.timezone)
    except ValidationError as exc:
        return post_form(request, **form, errors=field_errors(exc), status_code=422)
    if button == PREVIEW:
        return post_form(request, **form, preview=await preview_html(resources, values))
    async with resources.write_limiter.accepting(POSTS, user.id):
        try:
            post = await service.create_post(
                resources.database,
                resources.process_pool,
                data=data,
                author_id=user.id,
                auth_version=user.auth_version,
                now=utcnow(),
                external_images=resources.settings.external_images,
                send_newsletter=_mail_it(data.send_newsletter, site),
            )
        except InvalidInputError as exc:  # a feature image not uploaded here
            errors = {exc.field or "form": exc.message}
            return post_form(request, **form, errors=errors, status_code=422)
        if post is None:  # the account was deleted meanwhile
            raise forbidden("Your account no longer exists.")
    if post["status"] == PUBLISHED:
        visibility.wake()
    flash(request, saved_message(post, site.timezone))
    return redirect(canonical_url(post))


def _mail_it(choice: bool | None, site: SiteSettings) -> bool:
    """The author's choice, else the site's default."""
    return site.newsletter_default if choice is None else choice


@router.get("/posts/{post_id}")
async def post_by_id(
    viewer: PageUserDep,  # first, so a 404 page still shows who is logged in
    db: DatabaseDep,
    post_id: PostId,
) -> Response:
    """A post's short address: moved for good to the one with its slug."""
    if viewer is None:
        post = await visible_post(db, post_id, None)
    else:
        post = await visible_post(db, post_id, viewer.id, viewer.role)
    return moved(canonical_url(post))


@router.get("/posts/{post_id}/edit", name="edit_post")
async def edit_post_form(
    request: Request, user: LoggedInDep, post: OwnPostToEditDep, site: SiteDep
) -> HTMLResponse:
    """The form to change your post (an editor: anyone's)."""
    values = {
        "title": post["title"],
        "content": post["content"],
        "tags": ", ".join(post["tags"]),
        "published_at": minute(post["published_at"], site.timezone),
        "comments_enabled": CHECKED if post["comments_enabled"] else "",
        "feature_image": post["feature_image"] or "",
        "feature_image_alt": post["feature_image_alt"] or "",
    }
    return post_form(
        request,
        action=f"/posts/{post['id']}/edit",
        heading="Edit post",
        values=values,
        published=post["status"] == PUBLISHED,
        can_publish=may_publish(user, post),
    )


@router.post("/posts/{post_id}/edit", dependencies=[CsrfProtected])
async def edit_post(
    request: Request,
    user: LoggedInDep,
    post: OwnPostToEditDep,
    resources: ResourcesDep,
    site: SiteDep,
    visibility: PostVisibilityDep,
) -> Response:
    """Save the changes and show the post; or preview them."""
    values, button = await submitted(request)
    form: dict[str, Any] = {
        "action": f"/posts/{post['id']}/edit",
        "heading": "Edit post",
        "values": values,
        "published": post["status"] == PUBLISHED,
        "can_publish": may_publish(user, post),
    }
    if button == PICTURE:
        return await _with_picture(request, resources, user.id, form)
    try:
        data = parse_form(
            values,
            button,
            zone=site.timezone,
            keep=post["published_at"],
            mail_choice=post["status"] != PUBLISHED,
        )
    except ValidationError as exc:
        return post_form(request, **form, errors=field_errors(exc), status_code=422)
    if button == PREVIEW:
        return post_form(request, **form, preview=await preview_html(resources, values))
    check_edit(post, user_id=user.id, role=user.role, status=data.status)
    try:
        edited = await service.edit_post(
            resources.database,
            resources.process_pool,
            post=post,
            changes=data.model_dump(),
            now=utcnow(),
            external_images=resources.settings.external_images,
            visibility=visibility,
        )
    except InvalidInputError as exc:  # a feature image not uploaded here
        errors = {exc.field or "form": exc.message}
        return post_form(request, **form, errors=errors, status_code=422)
    if edited["status"] == PUBLISHED:
        visibility.wake()
    still_published = post["status"] == edited["status"] == PUBLISHED
    live = still_published and is_visible(edited, utcnow())
    flash(request, "Your post is updated." if live else saved_message(edited, site.timezone))
    return redirect(canonical_url(edited))


POST_FORM_PATH = re.compile(r"^/posts/(?:new|(\d+)/edit)$")


async def on_post_form_too_large(request: Request, exc: Exception) -> Response:
    """A post form over the body limit comes back as the form, with the reason beside the
    content (the text could not be read: the browser's Back button still has it). Any other
    413 is an error page or JSON, as usual."""
    found = POST_FORM_PATH.match(request.url.path)
    if request.method != "POST" or found is None:
        return await on_http_exception(request, exc)
    await show_page_user(request)
    action = request.url.path
    message = (
        f"The post is too large to send: at most {MAX_CONTENT_CHARS:,} characters. "
        "Nothing was saved; your browser's Back button has your text."
    )
    return post_form(
        request,
        action=action,
        heading="Edit post" if found.group(1) else "New post",
        values={},
        errors={"content": message},
        status_code=status.HTTP_413_CONTENT_TOO_LARGE,
    )


@router.get("/posts/{post_id}/delete", name="delete_post")
async def delete_post_confirm(request: Request, post: PostToDeleteDep) -> HTMLResponse:
    """Ask before deleting."""
    return templates.TemplateResponse(request, "posts/delete.html", {"post": post})


@router.post("/posts/{post_id}/delete", dependencies=[CsrfProtected])
async def delete_post(
    request: Request,
    user: LoggedInForWriteDep,
    post: PostToDeleteDep,
    session: WriteSessionDep,
    visibility: PostVisibilityDep,
) -> Response:
    """Delete the post and go home."""
    await service.delete_post(session, post=post, by_user_id=user.id, visibility=visibility)
    flash(
        request,
        "Your post is deleted." if post.user_id == user.id else "The post is deleted.",
        "info",
    )
    return redirect("/")


def post_page(
    request: Request,
    settings: SettingsDep,
    post: dict[str, Any],
    *,
    related: Related | None = None,
    status_code: int = 200,
    **more: Any,
) -> HTMLResponse:
    """One post on its own page. Its route is fastblog.comments.views.post_detail, a layer
    up, which adds the comments (`more`) and fetches them with the neighbours (`related`)."""
    visible = is_visible(post, utcnow())
    site = request.state.resources.site.current
    meta = post_meta(
        post,
        site=site_url(request, settings),
        site_name=site.title,
        site_image=site.share_image,
    )
    context = {
        "post": post,
        "scheduled": post["status"] == PUBLISHED and not visible,
        "related": related or Related(),
        "meta": meta,
        **more,
    }
    return templates.TemplateResponse(
        request, "posts/detail.html", context, status_code=status_code
    )


@router.get("/users/{user_id}/posts", name="user_posts")
async def user_posts(
    request: Request,
    viewer: PageUserDep,  # first, so a 404 page still shows who is logged in
    user: UserDep,
    db: DatabaseDep,
    at: PositionDep,
) -> HTMLResponse:
    """Everything one user has published, newest first."""
    context = await _page_of_posts(request, db, at, user_id=user.id)
    followed = viewer is not None and await is_following(db, user_id=viewer.id, followee_id=user.id)
    # With ActivityPub on, the package above posts (fastblog.federation) puts a function in the
    # lifespan state that says how to follow the author from afar and how many do.
    fediverse = getattr(request.state, "author_fediverse", None)
    context |= {
        "user": user,
        "followed": followed,
        "fediverse": await fediverse(user.id) if fediverse is not None else None,
    }
    return templates.TemplateResponse(request, "users/posts.html", context)
