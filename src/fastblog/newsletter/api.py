"""/api/subscriptions: subscribe (anyone), and for admins the list, a CSV export and removal."""

import csv
import io
from typing import Annotated, Any

from fastapi import BackgroundTasks, Path, Query, Request, Response, status

from fastblog.accounts.dependencies import client_address
from fastblog.accounts.schemas import Message
from fastblog.accounts.service import normalize_email
from fastblog.admin.permissions import ApiAdminDep
from fastblog.dependencies import DatabaseDep, ResourcesDep
from fastblog.exceptions import NotFoundError
from fastblog.newsletter import service
from fastblog.newsletter.schemas import SubscriberList, SubscriptionRequest
from fastblog.params import MAX_ID, TOO_LARGE, UNAVAILABLE, Responses, error
from fastblog.resources import Resources
from fastblog.routing import api_router
from fastblog.web.urls import site_url

router = api_router(prefix="/api/subscriptions", tags=["subscriptions"], responses=UNAVAILABLE)

ADMIN_ONLY: Responses = {
    status.HTTP_401_UNAUTHORIZED: error("Missing, invalid or expired token"),
    status.HTTP_403_FORBIDDEN: error("Only an admin or the owner"),
}
SubscriptionId = Annotated[int, Path(ge=1, le=MAX_ID)]
AuthorFilter = Annotated[
    int | None, Query(ge=1, le=MAX_ID, description="One author's subscribers only.")
]
SiteFilter = Annotated[bool, Query(description="The whole site's subscribers only.")]


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=Message, responses=TOO_LARGE)
async def subscribe(
    request: Request,
    data: SubscriptionRequest,
    background: BackgroundTasks,
    resources: ResourcesDep,
) -> Message:
    """Subscribe an address to new posts, of the whole site or of one author: a confirmation
    link is mailed (double opt-in) and nothing else is sent until it is used. The answer is
    the same for a new, known or already subscribed address."""
    await ask_to_confirm(request, background, resources, data)
    return Message(detail="If the address can receive mail, a confirmation link is on its way.")


@router.get("", response_model=SubscriberList, responses=ADMIN_ONLY)
async def list_subscribers(
    admin: ApiAdminDep, db: DatabaseDep, author_id: AuthorFilter = None, site: SiteFilter = False
) -> dict[str, Any]:
    """Every subscription (admins), oldest first: the site's, or one author's, or all."""
    rows = await service.subscribers(db, author_id=author_id, site=site)
    return {"subscribers": rows}


def as_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=service.EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({name: _cell(row[name]) for name in service.EXPORT_COLUMNS})
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    # A spreadsheet runs a cell that starts with = + - @ as a formula: not ours to run.
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


@router.get(
    "/export",
    responses=ADMIN_ONLY | {200: {"content": {"text/csv": {}}, "description": "CSV"}},
)
async def export_subscribers(
    admin: ApiAdminDep, db: DatabaseDep, author_id: AuthorFilter = None, site: SiteFilter = False
) -> Response:
    """The subscriptions as CSV (admins): id, email, author_id, author, created_at,
    confirmed_at."""
    rows = await service.subscribers(db, author_id=author_id, site=site)
    return Response(
        as_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="subscribers.csv"'},
    )


@router.delete(
    "/{subscription_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=ADMIN_ONLY | {404: error("No such subscription")},
)
async def remove_subscriber(
    admin: ApiAdminDep, db: DatabaseDep, subscription_id: SubscriptionId
) -> Response:
    """Remove a subscription (admins); mails waiting for that address are not sent."""
    if not await service.remove(db, subscription_id):
        raise NotFoundError("Subscription not found")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def ask_to_confirm(
    request: Request,
    background: BackgroundTasks,
    resources: Resources,
    data: SubscriptionRequest,
) -> None:
    """The confirmation mail, unless the reset-mail throttle says this inbox or this address
    has had enough; queued after the response (the answer takes as long whatever the
    address). The API and the subscribe box both ask through here."""
    if await resources.mail_throttle.allow(normalize_email(data.email), client_address(request)):
        background.add_task(
            service.subscribe,
            resources.database,
            resources.outbox,
            email=data.email,
            author_id=data.author_id,
            base_url=site_url(request, resources.settings),
            site_title=resources.site.current.title,
        )
