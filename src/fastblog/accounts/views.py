"""HTML pages of your own account: profile, picture, password."""

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from fastblog.accounts import pictures, service
from fastblog.accounts.dependencies import HasherDep, LoggedInDep, LoggedInForWriteDep, log_in
from fastblog.accounts.models import User
from fastblog.accounts.schemas import PasswordChange, UserUpdate
from fastblog.dependencies import DatabaseDep, ResourcesDep, WriteSessionDep
from fastblog.exceptions import DomainError
from fastblog.web.session import CsrfProtected, field_errors, flash, form_values, redirect
from fastblog.web.templating import templates

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


def account_page(
    request: Request,
    user: User,
    *,
    status_code: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    values = values or {"username": user.username, "email": user.email}
    context = {"user": user, "values": values, "errors": errors or {}}
    return templates.TemplateResponse(
        request, "users/account.html", context, status_code=status_code
    )


@router.get("/account", name="account")
async def account(request: Request, user: LoggedInDep) -> HTMLResponse:
    """Your account: profile, picture and password."""
    return account_page(request, user)


@router.post("/account/profile", dependencies=[CsrfProtected])
async def update_profile(
    request: Request, user: LoggedInForWriteDep, session: WriteSessionDep
) -> Response:
    """Change your username or email."""
    values = form_values(await request.form(), "username", "email")
    try:
        data = UserUpdate.model_validate(values)
    except ValidationError as exc:
        return account_page(request, user, status_code=422, values=values, errors=field_errors(exc))
    try:
        await service.update_user(session, user=user, data=data)
    except service.DuplicateUserError as exc:
        errors = {exc.field or "username": exc.message}
        return account_page(request, user, status_code=400, values=values, errors=errors)
    flash(request, "Your profile is updated.")
    return redirect("/account")


@router.post("/account/picture", dependencies=[CsrfProtected])
async def upload_picture(
    request: Request,
    user: LoggedInDep,
    resources: ResourcesDep,
    picture: Annotated[UploadFile, File()],
) -> Response:
    """Upload a new profile picture."""
    try:
        data = await pictures.read_upload(picture, max_bytes=resources.settings.max_upload_bytes)
        await pictures.replace_picture(resources, user_id=user.id, data=data)
    except DomainError as exc:
        errors = {exc.field or "picture": exc.message}
        return account_page(request, user, status_code=exc.status_code, errors=errors)
    flash(request, "Your picture is updated.")
    return redirect("/account")


@router.post("/account/picture/delete", dependencies=[CsrfProtected])
async def delete_picture(request: Request, user: LoggedInDep, resources: ResourcesDep) -> Response:
    """Go back to the default avatar."""
    await pictures.clear_picture(resources, user_id=user.id)
    flash(request, "Your picture is removed.", "info")
    return redirect("/account")


@router.post("/account/password", dependencies=[CsrfProtected])
async def change_password(
    request: Request,
    user: LoggedInDep,
    db: DatabaseDep,
    hasher: HasherDep,
    current_password: Annotated[str, Form(max_length=200)] = "",
    new_password: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Change your password (this logs out your other browsers)."""
    try:
        data = PasswordChange(current_password=current_password, new_password=new_password)
    except ValidationError as exc:
        return account_page(request, user, status_code=422, errors=field_errors(exc))
    try:
        account = await service.change_password(
            db,
            hasher,
            user=user,
            current_password=data.current_password,
            new_password=data.new_password,
        )
    except service.WrongPasswordError as exc:
        errors = {exc.field or "current_password": exc.message}
        return account_page(request, user, status_code=400, errors=errors)
    log_in(request, account)  # this browser stays logged in with the new fingerprint
    flash(request, "Your password is changed.")
    return redirect("/account")
