"""Pages for likes and the feed: plain forms that work without JavaScript."""

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from fastblog.accounts.dependencies import LoggedInDep
from fastblog.db import utcnow
from fastblog.dependencies import DatabaseDep, KeysetDep, SiteDep, WriteLimiterDep
from fastblog.posts import likes
from fastblog.posts.dependencies import PostId
from fastblog.posts.feed import fetch_feed, fetch_suggested_authors
from fastblog.routing import api_router
from fastblog.web.session import CsrfProtected, redirect
from fastblog.web.templating import templates
from fastblog.write_limits import LIKES

router = api_router(include_in_schema=False, default_response_class=HTMLResponse)

SUGGESTIONS = 5


@router.post("/posts/{post_id}/like", dependencies=[CsrfProtected])
async def like_post(
    post_id: PostId, user: LoggedInDep, db: DatabaseDep, limiter: WriteLimiterDep
) -> Response:
    """Like the post and go back to it."""
    async with limiter.accepting(LIKES, user.id):
        state = await likes.like(db, post_id=post_id, user_id=user.id, now=utcnow())
    return redirect(f"/posts/{post_id}/{state['slug']}#likes")


@router.post("/posts/{post_id}/unlike", dependencies=[CsrfProtected])
async def unlike_post(
    post_id: PostId, user: LoggedInDep, db: DatabaseDep, limiter: WriteLimiterDep
) -> Response:
    """Take your like back and go back to the post."""
    async with limiter.accepting(LIKES, user.id):
        state = await likes.unlike(db, post_id=post_id, user_id=user.id, now=utcnow())
    return redirect(f"/posts/{post_id}/{state['slug']}#likes")


@router.get("/feed", name="feed")
async def feed(
    request: Request,
    user: LoggedInDep,
    db: DatabaseDep,
    site: SiteDep,
    cursor: KeysetDep,
) -> HTMLResponse:
    """The newest posts of the authors you follow; with none yet, authors to follow."""
    posts, next_cursor = await fetch_feed(
        db,
        viewer_id=user.id,
        now=utcnow(),
        limit=site.posts_per_page,
        cursor=cursor,
        full=False,
    )
    suggested = []
    if not posts and cursor is None:
        suggested = await fetch_suggested_authors(db, viewer_id=user.id, limit=SUGGESTIONS)
    context = {
        "posts": posts,
        "next_cursor": next_cursor,
        "first_page": cursor is None,
        "suggested": suggested,
    }
    return templates.TemplateResponse(request, "posts/feed.html", context)
