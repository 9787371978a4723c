"""HTML pages about users."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from fastblog.dependencies import SessionDep, SettingsDep
from fastblog.pagination import PageLinks
from fastblog.params import PageNumber
from fastblog.posts import service as posts_service
from fastblog.templating import templates
from fastblog.users.dependencies import UserDep

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


@router.get("/users/{user_id}/posts", name="user_posts")
async def user_posts(
    request: Request,
    user: UserDep,
    session: SessionDep,
    settings: SettingsDep,
    page: PageNumber = 1,
) -> HTMLResponse:
    """Everything one user has written, newest first."""
    per_page = settings.posts_per_page
    skip = (page - 1) * per_page
    posts, total = await posts_service.list_posts(
        session, skip=skip, limit=per_page, user_id=user.id
    )
    links = PageLinks(number=page, per_page=per_page, total=total)
    return templates.TemplateResponse(
        request, "users/posts.html", {"user": user, "posts": posts, "links": links}
    )
