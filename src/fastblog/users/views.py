"""HTML pages about users: their posts, and your own account."""

from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from fastblog.auth.dependencies import HasherDep
from fastblog.database import FOR_UPDATE, write_session
from fastblog.dependencies import DirectDep, PostQueriesDep, SettingsDep, WriteSessionDep
from fastblog.pagination import PageLinks
from fastblog.params import PageNumber
from fastblog.posts.queries import fetch_page
from fastblog.templating import templates
from fastblog.users import pictures, service
from fastblog.users.dependencies import UserDep
from fastblog.users.models import User
from fastblog.users.schemas import PasswordChange, UserUpdate
from fastblog.web import (
    CsrfProtected,
    LoggedInDep,
    LoggedInForWriteDep,
    PageUserDep,
    field_errors,
    flash,
    form_values,
    log_in,
    redirect,
)

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


@router.get("/users/{user_id}/posts", name="user_posts")
async def user_posts(
    request: Request,
    viewer: PageUserDep,  # first, so a 404 page still shows who is logged in
    user: UserDep,
    direct: DirectDep,
    queries: PostQueriesDep,
    settings: SettingsDep,
    page: PageNumber = 1,
) -> HTMLResponse:
    """Everything one user has written, newest first."""
    per_page = settings.posts_per_page
    skip = (page - 1) * per_page
    posts, total = await fetch_page(direct, queries, skip=skip, limit=per_page, user_id=user.id)
    links = PageLinks(number=page, per_page=per_page, total=total)
    return templates.TemplateResponse(
        request, "users/posts.html", {"user": user, "posts": posts, "links": links}
    )


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
        field = "email" if "mail" in str(exc) else "username"
        return account_page(request, user, status_code=400, values=values, errors={field: str(exc)})
    flash(request, "Your profile is updated.")
    return redirect("/account")


@router.post("/account/picture", dependencies=[CsrfProtected])
async def upload_picture(
    request: Request,
    user: LoggedInDep,
    settings: SettingsDep,
    picture: Annotated[UploadFile, File()],
) -> Response:
    """Upload a new profile picture."""
    try:
        data = await pictures.read_upload(picture, max_bytes=settings.max_upload_bytes)
        await pictures.replace_picture(request.app.state, user_id=user.id, data=data)
    except HTTPException as exc:
        return account_page(
            request, user, status_code=exc.status_code, errors={"picture": str(exc.detail)}
        )
    flash(request, "Your picture is updated.")
    return redirect("/account")


@router.post("/account/picture/delete", dependencies=[CsrfProtected])
async def delete_picture(request: Request, user: LoggedInDep) -> Response:
    """Go back to the default avatar."""
    await pictures.clear_picture(request.app.state, user_id=user.id)
    flash(request, "Your picture is removed.", "info")
    return redirect("/account")


@router.post("/account/password", dependencies=[CsrfProtected])
async def change_password(
    request: Request,
    user: LoggedInDep,
    hasher: HasherDep,
    current_password: Annotated[str, Form(max_length=200)] = "",
    new_password: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Change your password (this logs out your other browsers)."""
    try:
        data = PasswordChange(current_password=current_password, new_password=new_password)
    except ValidationError as exc:
        return account_page(request, user, status_code=422, errors=field_errors(exc))
    if not await hasher.verify(data.current_password, user.password_hash):
        errors = {"current_password": "That is not your current password."}
        return account_page(request, user, status_code=400, errors=errors)
    password_hash = await hasher.hash(data.new_password)
    async with write_session(request.app.state) as session:
        account = await session.get(User, user.id, with_for_update=FOR_UPDATE)
        if account is not None:
            await service.set_password_hash(session, user=account, password_hash=password_hash)
            log_in(request, account)  # this browser stays logged in with the new fingerprint
    flash(request, "Your password is changed.")
    return redirect("/account")
