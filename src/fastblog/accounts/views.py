"""HTML pages of your own account: profile, notification mails, picture, password."""

from typing import Annotated

from fastapi import File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from fastblog.accounts import pictures, service
from fastblog.accounts.dependencies import (
    AccountDeletionDep,
    HasherDep,
    LoggedInDep,
    LoggedInForWriteDep,
    log_in,
    log_out,
)
from fastblog.accounts.models import User
from fastblog.accounts.schemas import PasswordChange, UserUpdate
from fastblog.dependencies import DatabaseDep, ResourcesDep, WriteSessionDep
from fastblog.exceptions import DomainError, StateConflictError
from fastblog.routing import api_router
from fastblog.web.session import (
    CsrfProtected,
    field_errors,
    flash,
    form_values,
    pop_form_errors,
    redirect,
    stash_form_errors,
)
from fastblog.web.templating import templates

router = api_router(include_in_schema=False, default_response_class=HTMLResponse)

PROFILE_FIELDS = ("username", "email", "bio", "website")


def account_page(
    request: Request,
    user: User,
    *,
    status_code: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    values = values or {
        "username": user.username,
        "email": user.email,
        "bio": user.bio or "",
        "website": user.website or "",
    }
    context = {"user": user, "values": values, "errors": errors or {}}
    return templates.TemplateResponse(
        request, "users/account.html", context, status_code=status_code
    )


@router.get("/account", name="account")
async def account(request: Request, user: LoggedInDep) -> HTMLResponse:
    """Your account: profile, picture and password."""
    errors = pop_form_errors(request)  # a failed picture upload redirects here
    return account_page(request, user, errors=errors)


@router.get("/account/{form}")
async def account_form(form: str) -> Response:
    """The account's forms post to these addresses; opening one shows the account page."""
    return redirect("/account")


@router.post("/account/profile", dependencies=[CsrfProtected])
async def update_profile(
    request: Request, user: LoggedInForWriteDep, session: WriteSessionDep
) -> Response:
    """Change your username, email, bio and website."""
    values = form_values(await request.form(), *PROFILE_FIELDS)
    try:
        data = UserUpdate.model_validate(values)
    except ValidationError as exc:
        return account_page(request, user, status_code=422, values=values, errors=field_errors(exc))
    try:
        await service.update_user(session, user=user, data=data)
    except service.DuplicateUserError as exc:
        errors = exc.errors
        return account_page(request, user, status_code=400, values=values, errors=errors)
    flash(request, "Your profile is updated.")
    return redirect("/account")


@router.post("/account/notifications", dependencies=[CsrfProtected])
async def update_notifications(
    request: Request, user: LoggedInForWriteDep, session: WriteSessionDep
) -> Response:
    """Turn the notification digest mail on or off."""
    wanted = (await request.form()).get("notify_by_mail") == "on"
    await service.update_user(session, user=user, data=UserUpdate(notify_by_mail=wanted))
    if wanted:
        flash(request, "You will get a mail when someone comments on your posts or follows you.")
    else:
        flash(request, "No more notification mails.", "info")
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
        # Post/Redirect/Get: the page with the error is /account, which a reload shows again.
        stash_form_errors(request, {exc.field or "picture": exc.message})
        return redirect("/account")
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


@router.post("/account/logout-everywhere", dependencies=[CsrfProtected])
async def logout_everywhere(request: Request, user: LoggedInDep, db: DatabaseDep) -> Response:
    """End every browser session and API token of your account, this one's too."""
    await service.log_out_everywhere(db, user=user)
    log_out(request)
    flash(request, "You are logged out everywhere.", "info")
    return redirect("/login")


@router.post("/account/delete", dependencies=[CsrfProtected])
async def delete_account(
    request: Request,
    user: LoggedInDep,
    resources: ResourcesDep,
    hasher: HasherDep,
    deletion: AccountDeletionDep,
    password: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Delete your account and all of your posts; your password confirms it."""
    try:
        picture = await service.delete_account(
            resources.database, hasher, user=user, password=password, deletion=deletion
        )
    except service.WrongPasswordError as exc:
        errors = {exc.field or "password": exc.message}
        return account_page(request, user, status_code=400, errors=errors)
    except StateConflictError as exc:  # the owner: ownership goes on first
        return account_page(request, user, status_code=409, errors={"delete": exc.message})
    await pictures.remove_picture(resources, picture)
    log_out(request)
    flash(request, "Your account and your posts are deleted.", "info")
    return redirect("/")
