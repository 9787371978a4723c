"""The search page: the same results as the API, a page at a time."""

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from fastblog.accounts.dependencies import PageUserDep
from fastblog.db import utcnow
from fastblog.dependencies import DatabaseDep, SiteDep
from fastblog.posts.dependencies import TagFilter, tag_or_none
from fastblog.routing import api_router
from fastblog.search import service
from fastblog.search.dependencies import OffsetDep
from fastblog.search.query import MAX_QUERY_CHARS
from fastblog.search.schemas import AuthorFilter
from fastblog.web.templating import templates

router = api_router(include_in_schema=False, default_response_class=HTMLResponse)

PageQuery = Annotated[str, Query(max_length=MAX_QUERY_CHARS)]


def _link(**params: Any) -> str:
    return "/search?" + urlencode({name: value for name, value in params.items() if value})


@router.get("/search", name="search")
async def search_page(
    request: Request,
    viewer: PageUserDep,  # first, so an error page still shows who is logged in
    db: DatabaseDep,
    site: SiteDep,
    offset: OffsetDep,
    q: PageQuery = "",
    tag: TagFilter = None,
    author: AuthorFilter = None,
) -> HTMLResponse:
    """Search published posts."""
    wanted = tag_or_none(tag) if tag else None
    results = await service.search(
        db,
        text=q if wanted or not tag else "",
        now=utcnow(),
        offset=offset,
        limit=site.posts_per_page,
        user_id=author,
        tag=wanted,
        full=False,
    )
    for post in results.posts:
        # Escaped by fastblog.search.service.marked; the only markup in it is <mark>.
        post["snippet"] = Markup(post["snippet"])  # noqa: S704
    suggestion = results.suggestion.text() if results.suggestion else None
    context = {
        "search_query": q,
        "searched": not results.query.is_empty,
        "posts": results.posts,
        "suggestion": suggestion,
        "suggestion_url": _link(q=suggestion, tag=wanted, author=author) if suggestion else None,
        "next_url": _link(q=q, tag=wanted, author=author, cursor=results.next_cursor)
        if results.next_cursor
        else None,
        "first": offset == 0,
    }
    return templates.TemplateResponse(request, "search/results.html", context)
