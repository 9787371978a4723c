from typing import Annotated, Any

from fastapi import Query, status

from fastblog.accounts.dependencies import TokenUserIdDep
from fastblog.db import utcnow
from fastblog.dependencies import DatabaseDep, IdCursorDep
from fastblog.notifications import queries
from fastblog.notifications.schemas import MarkRead, NotificationPage, Unread, page_of
from fastblog.params import MAX_LIMIT, TOO_LARGE, UNAVAILABLE, Responses, error
from fastblog.routing import api_router

router = api_router(prefix="/api/notifications", tags=["notifications"], responses=UNAVAILABLE)

E401: Responses = {status.HTTP_401_UNAUTHORIZED: error("Missing, invalid or expired token")}
NotificationLimit = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description="How many notifications to return.")
]


@router.get("", response_model=NotificationPage, responses=E401)
async def list_notifications(
    db: DatabaseDep, user_id: TokenUserIdDep, cursor: IdCursorDep, limit: NotificationLimit = 20
) -> dict[str, Any]:
    """Your notifications, newest first, a page at a time (`next_cursor`): comments on your
    posts, new followers, likes; with how many are unread."""
    notifications, next_cursor = await queries.fetch_page(
        db, user_id=user_id, before=cursor, limit=limit
    )
    unread = await queries.unread_count(db, user_id=user_id)
    return page_of(notifications, unread, next_cursor)


@router.post("/read", response_model=Unread, responses=E401 | TOO_LARGE)
async def mark_read(
    db: DatabaseDep, user_id: TokenUserIdDep, data: MarkRead | None = None
) -> dict[str, Any]:
    """Mark your notifications read: all of them, or those up to `up_to` (an id)."""
    up_to = data.up_to if data else None
    unread = await queries.mark_read(db, user_id=user_id, up_to=up_to, now=utcnow())
    return {"unread": unread}
