"""HTML pages for reading posts."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from fastblog.dependencies import SessionDep, SettingsDep
from fastblog.pagination import PageLinks
from fastblog.params import PageNumber
from fastblog.posts import service
from fastblog.posts.dependencies import PostDep
from fastblog.templating import templates

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


@router.get("/", name="home")
@router.get("/posts", name="posts")
async def home(
    request: Request, session: SessionDep, settings: SettingsDep, page: PageNumber = 1
) -> HTMLResponse:
    """The newest posts, a page at a time."""
    per_page = settings.posts_per_page
    skip = (page - 1) * per_page
    posts, total = await service.list_posts(session, skip=skip, limit=per_page)
    links = PageLinks(number=page, per_page=per_page, total=total)
    return templates.TemplateResponse(
        request, "posts/list.html", {"posts": posts, "links": links, "heading": "Latest posts"}
    )


@router.get("/posts/{post_id}", name="post_detail")
async def post_detail(request: Request, post: PostDep) -> HTMLResponse:
    """One post on its own page."""
    return templates.TemplateResponse(request, "posts/detail.html", {"post": post})
