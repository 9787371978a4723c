"""The pages of subscribing and leaving, all without JavaScript.

- POST /subscriptions: the subscribe box (home, author pages, under each post). No CSRF
  token: it does what the public API does (a confirmation mail, throttled), and the box is on
  pages that set no cookie. POST /subscriptions/me: a signed-in reader's one click (CSRF).
- /subscriptions/confirm/{token} and /unsubscribe/{token}: a GET shows a page with one button
  and changes nothing (mail scanners and link previews fetch every link in a mail); the
  POST does it. POST /unsubscribe/{token} with `List-Unsubscribe=One-Click` is RFC 8058's
  one-click unsubscribe that mail clients send from the List-Unsubscribe header.
"""

from typing import Annotated

from fastapi import BackgroundTasks, Form, Path, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import TypeAdapter, ValidationError

from fastblog.accounts.dependencies import LoggedInDep, client_address
from fastblog.accounts.service import normalize_email
from fastblog.dependencies import DatabaseDep, ResourcesDep
from fastblog.exceptions import NotFoundError
from fastblog.newsletter import service
from fastblog.newsletter.api import ask_to_confirm
from fastblog.newsletter.schemas import SubscriptionRequest
from fastblog.routing import api_router
from fastblog.web.session import CsrfProtected, flash, redirect, safe_next
from fastblog.web.templating import templates
from fastblog.web.urls import site_url

router = api_router(include_in_schema=False, default_response_class=HTMLResponse)

Token = Annotated[str, Path(min_length=20, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Next = Annotated[str, Form(max_length=2000)]
AuthorField = Annotated[str, Form(max_length=20)]
LINK_GONE = "This link does not work any more: it was used to leave, or it is more than a week old."
CHECK_INBOX = "Almost done: open the link we mailed you to confirm your subscription."
_request = TypeAdapter(SubscriptionRequest)


def _author(value: str) -> int | None:
    return int(value) if value.isdigit() and 0 < int(value) < 2**63 else None


@router.post("/subscriptions")
async def subscribe_form(
    request: Request,
    background: BackgroundTasks,
    resources: ResourcesDep,
    email: Annotated[str, Form(max_length=254)] = "",
    author_id: AuthorField = "",
    next: Next = "/",
) -> Response:
    """The subscribe box: a confirmation mail to the address, then back to the page."""
    back = safe_next(next)
    try:
        data = _request.validate_python({"email": email.strip(), "author_id": _author(author_id)})
    except ValidationError:
        flash(request, "That does not look like an email address: check it and try again.", "error")
        return redirect(back)
    await ask_to_confirm(request, background, resources, data)
    flash(request, CHECK_INBOX)
    return redirect(back)


@router.post("/subscriptions/me", dependencies=[CsrfProtected])
async def subscribe_me(
    request: Request,
    user: LoggedInDep,
    resources: ResourcesDep,
    author_id: AuthorField = "",
    next: Next = "/",
) -> Response:
    """A signed-in reader subscribes their own address in one click: at once when the
    address is proven (a reset or invitation link reached it), else after a confirmation."""
    async with resources.database.session() as session:
        verified = await service.address_verified(session, user)
    if not verified and not await resources.mail_throttle.allow(
        normalize_email(user.email), client_address(request)
    ):
        flash(request, "Too many confirmation mails for now: try again in an hour.", "error")
        return redirect(safe_next(next))
    await service.subscribe(
        resources.database,
        resources.outbox,
        email=user.email,
        author_id=_author(author_id),
        base_url=site_url(request, resources.settings),
        site_title=resources.site.current.title,
        confirmed=verified,
    )
    flash(request, "You are subscribed: new posts will come by email." if verified else CHECK_INBOX)
    return redirect(safe_next(next))


# A mail link's pages are one address's: no cache keeps them, this process's kept public
# pages (fastblog.web.kept_pages) included.
PRIVATE_PAGE = {"Cache-Control": "private, no-store"}


@router.get("/subscriptions/confirm/{token}", name="confirm_subscription")
async def confirm_page(request: Request, db: DatabaseDep, token: Token) -> HTMLResponse:
    """A page with one button that confirms (a GET changes nothing)."""
    found = await service.find(db, token)
    if found is None:
        raise NotFoundError(LINK_GONE)
    context = {"token": token, "confirmed": found.confirmed_at is not None}
    return templates.TemplateResponse(
        request, "newsletter/confirm.html", context, headers=PRIVATE_PAGE
    )


@router.post("/subscriptions/confirm/{token}")
async def confirm(request: Request, db: DatabaseDep, token: Token) -> Response:
    """Confirm the subscription; new posts are mailed from now on."""
    if await service.confirm(db, token) is None:
        raise NotFoundError(LINK_GONE)
    flash(request, "Your subscription is confirmed: new posts will come by email.")
    return redirect(f"/unsubscribe/{token}")


@router.get("/unsubscribe/{token}", name="unsubscribe")
async def manage_page(request: Request, db: DatabaseDep, token: Token) -> HTMLResponse:
    """The address's subscriptions, and one button to leave them all (a GET changes nothing)."""
    found = await service.find(db, token)
    context: dict[str, object]
    if found is None:
        context = {"token": token, "email": None, "subscriptions": []}
    else:
        subscriptions = await service.subscriptions_of(db, found.email)
        context = {"token": token, "email": found.email, "subscriptions": subscriptions}
    return templates.TemplateResponse(
        request, "newsletter/manage.html", context, headers=PRIVATE_PAGE
    )


@router.post("/unsubscribe/{token}")
async def unsubscribe(request: Request, db: DatabaseDep, token: Token) -> Response:
    """Leave: nothing more is mailed to this address. Answers 200 also to a link already used,
    as RFC 8058 mail clients expect (they POST `List-Unsubscribe=One-Click`)."""
    email = await service.unsubscribe(db, token)
    context = {"email": email}
    return templates.TemplateResponse(request, "newsletter/left.html", context)
