from typing import Any

from fastblog.db import utcnow
from fastblog.dependencies import DatabaseDep
from fastblog.params import UNAVAILABLE, Limit
from fastblog.posts.dependencies import TagFilter, tag_or_none
from fastblog.routing import api_router
from fastblog.search import service
from fastblog.search.dependencies import OffsetDep
from fastblog.search.schemas import AuthorFilter, QueryText, SearchPage, WithContent

router = api_router(prefix="/api/search", tags=["posts"], responses=UNAVAILABLE)


@router.get("", response_model=SearchPage)
async def search_posts(
    db: DatabaseDep,
    q: QueryText,
    offset: OffsetDep,
    limit: Limit = 10,
    tag: TagFilter = None,
    author: AuthorFilter = None,
    content: WithContent = False,
) -> dict[str, Any]:
    """Search published posts (title, text and tags; a title match ranks first), best match
    first, each with a snippet of its text; without its content unless `?content=true`."""
    wanted = tag_or_none(tag) if tag is not None else None
    if tag is not None and wanted is None:  # no tag is spelled like that: nothing matches
        return {"posts": [], "next_cursor": None, "suggestion": None}
    results = await service.search(
        db,
        text=q,
        now=utcnow(),
        offset=offset,
        limit=limit,
        user_id=author,
        tag=wanted,
        full=content,
    )
    return {
        "posts": results.posts,
        "next_cursor": results.next_cursor,
        "suggestion": results.suggestion.text() if results.suggestion else None,
    }
