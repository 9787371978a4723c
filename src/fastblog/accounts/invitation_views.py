"""Invitations in the browser: the page an invitation's link opens (/join), and the admins'
list of pending invitations with a form to send one and "revoke" on each (plain forms with
CSRF, no JavaScript)."""

from typing import Annotated, Any

from fastapi import Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from fastblog.accounts import invitations
from fastblog.accounts.dependencies import HasherDep, LoggedInDep, PageUserDep, log_in
from fastblog.accounts.invitation_api import InvitationCreate
from fastblog.accounts.models import User
from fastblog.accounts.roles import Role
from fastblog.accounts.schemas import UserCreate
from fastblog.accounts.service import DuplicateUserError
from fastblog.db import utcnow
from fastblog.dependencies import DatabaseDep, ResourcesDep
from fastblog.exceptions import DomainError, ForbiddenError
from fastblog.params import MAX_ID
from fastblog.routing import api_router
from fastblog.web.session import CsrfProtected, field_errors, flash, form_values, redirect
from fastblog.web.templating import templates
from fastblog.web.urls import site_url

router = api_router(include_in_schema=False, default_response_class=HTMLResponse)

Token = Annotated[str, Form(max_length=200)]
QueryToken = Annotated[str, Query(max_length=200)]


def _join_page(request: Request, status_code: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, "auth/join.html", context, status_code=status_code)


@router.get("/join", name="join")
async def join_form(
    request: Request, db: DatabaseDep, user: PageUserDep, token: str = ""
) -> Response:
    """The page an invitation's link opens: pick a username and a password."""
    invitation = await invitations.find(db, token)
    return _join_page(request, invitation=invitation, token=token, values={}, errors={})


@router.post("/join", dependencies=[CsrfProtected])
async def join(
    request: Request, db: DatabaseDep, hasher: HasherDep, user: PageUserDep, token: Token = ""
) -> Response:
    """Make the account the invitation offers, log in, and go to the home page."""
    invitation = await invitations.find(db, token)
    values = form_values(await request.form(), "username", "password")
    page: dict[str, Any] = {"invitation": invitation, "token": token, "values": values}
    try:
        UserCreate.model_validate({**values, "email": invitation.email})
    except ValidationError as exc:
        return _join_page(request, 422, **page, errors=field_errors(exc))
    password_hash = await hasher.hash(values["password"])  # slow: before the write lock
    try:
        account = await invitations.accept(
            db,
            token=token,
            username=values["username"],
            password=values["password"],
            password_hash=password_hash,
        )
    except DuplicateUserError as exc:
        return _join_page(request, 400, **page, errors=exc.errors)
    log_in(request, account)
    flash(request, f"Welcome, {account.username}! You have joined as {_a(account.role)}.")
    return redirect("/")


def _a(role: str) -> str:
    return f"{'an' if role[0] in 'aeiou' else 'a'} {role}"


# -- the admins' page ------------------------------------------------------------------------


def _admin(user: User) -> User:
    if not user.at_least(Role.ADMIN):
        raise ForbiddenError(invitations.ADMINS_ONLY)
    return user


async def _admin_page(
    request: Request,
    db: DatabaseDep,
    user: User,
    status_code: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    context = {
        "invitations": await invitations.pending(db, by_id=user.id, now=utcnow()),
        "roles": invitations.roles_to_give(user.role),
        "values": values or {"role": Role.CONTRIBUTOR.value},
        "errors": errors or {},
    }
    return templates.TemplateResponse(
        request, "admin/invitations.html", context, status_code=status_code
    )


@router.get("/admin/invitations", name="admin_invitations")
async def invitations_page(request: Request, user: LoggedInDep, db: DatabaseDep) -> Response:
    """Pending invitations, a form to send one, and "revoke" on each (admins and the owner)."""
    return await _admin_page(request, db, _admin(user))


@router.post("/admin/invitations", dependencies=[CsrfProtected])
async def send_invitation(request: Request, user: LoggedInDep, resources: ResourcesDep) -> Response:
    """Send an invitation and come back to the list."""
    db = resources.database
    values = form_values(await request.form(), "email", "role")
    try:
        data = InvitationCreate.model_validate(values)
    except ValidationError as exc:
        return await _admin_page(request, db, _admin(user), 422, values, field_errors(exc))
    try:
        await invitations.invite(
            resources,
            by_id=user.id,
            email=data.email,
            role=Role(data.role),
            base_url=site_url(request, resources.settings),
        )
    except DomainError as exc:
        if exc.field is None:
            raise
        errors = {exc.field: exc.message}
        return await _admin_page(request, db, _admin(user), exc.status_code, values, errors)
    flash(request, f"Invitation sent to {data.email}.")
    return redirect("/admin/invitations")


@router.post("/admin/invitations/{invitation_id}/revoke", dependencies=[CsrfProtected])
async def revoke_invitation(
    request: Request,
    user: LoggedInDep,
    db: DatabaseDep,
    invitation_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    """Revoke one invitation: its link stops working."""
    await invitations.revoke(db, by_id=_admin(user).id, invitation_id=invitation_id)
    flash(request, "The invitation is revoked.", "info")
    return redirect("/admin/invitations")
