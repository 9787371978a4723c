"""Follow and unfollow buttons: plain forms that work without JavaScript and go back to the
page they were on (an author's page, the feed's suggestions)."""

from typing import Annotated

from fastapi import Form
from fastapi.responses import HTMLResponse, Response

from fastblog.accounts import follows
from fastblog.accounts.dependencies import LoggedInDep, UserId
from fastblog.db import utcnow
from fastblog.dependencies import DatabaseDep, WriteLimiterDep
from fastblog.routing import api_router
from fastblog.web.session import CsrfProtected, redirect, safe_next
from fastblog.write_limits import FOLLOWS

router = api_router(include_in_schema=False, default_response_class=HTMLResponse)

NextUrl = Annotated[str, Form(alias="next", max_length=2000)]


def _back(next_url: str, user_id: int) -> Response:
    return redirect(safe_next(next_url or f"/users/{user_id}/posts"))


@router.post("/users/{user_id}/follow", dependencies=[CsrfProtected])
async def follow_user(
    user_id: UserId,
    user: LoggedInDep,
    db: DatabaseDep,
    limiter: WriteLimiterDep,
    next_url: NextUrl = "",
) -> Response:
    """Follow the author and go back."""
    async with limiter.accepting(FOLLOWS, user.id):
        await follows.follow(db, user_id=user.id, followee_id=user_id, now=utcnow())
    return _back(next_url, user_id)


@router.post("/users/{user_id}/unfollow", dependencies=[CsrfProtected])
async def unfollow_user(
    user_id: UserId,
    user: LoggedInDep,
    db: DatabaseDep,
    limiter: WriteLimiterDep,
    next_url: NextUrl = "",
) -> Response:
    """Stop following the author and go back."""
    async with limiter.accepting(FOLLOWS, user.id):
        await follows.unfollow(db, user_id=user.id, followee_id=user_id)
    return _back(next_url, user_id)
