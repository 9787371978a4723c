"""Sign-up, login, logout and password reset in the browser (plain HTML forms)."""

from typing import Annotated

from fastapi import BackgroundTasks, Form, Request, status
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from fastblog.accounts import auth_service as service
from fastblog.accounts import service as users_service
from fastblog.accounts.dependencies import (
    HasherDep,
    MailThrottleDep,
    PageUserDep,
    ThrottleDep,
    client_address,
    log_in,
    log_out,
)
from fastblog.accounts.schemas import ForgotPassword, ResetPassword, UserCreate
from fastblog.accounts.signup import check_open, signup_rules
from fastblog.dependencies import DatabaseDep, ResourcesDep, SessionDep
from fastblog.exceptions import ForbiddenError
from fastblog.params import NO_NUL
from fastblog.routing import api_router
from fastblog.web.honeypot import CAUGHT, caught
from fastblog.web.session import (
    CsrfProtected,
    field_errors,
    flash,
    form_values,
    redirect,
    safe_next,
)
from fastblog.web.templating import templates

router = api_router(include_in_schema=False, default_response_class=HTMLResponse)


def render(request: Request, name: str, status_code: int = 200, **context: object) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status_code)


@router.get("/register", name="register")
async def register_form(request: Request, user: PageUserDep) -> Response:
    """The sign-up form (or what to do when sign-up is not open)."""
    if user is not None:
        return redirect("/")
    closed = await _closed(request)
    return render(request, "auth/register.html", values={}, errors={}, closed=closed)


async def _closed(request: Request) -> str | None:
    """Why nobody may sign up here now, or None when anyone may."""
    resources = request.state.resources
    try:
        await check_open(await signup_rules(resources), resources.database)
    except ForbiddenError as exc:
        return exc.message
    return None


@router.post("/register", dependencies=[CsrfProtected])
async def register(
    request: Request, db: DatabaseDep, hasher: HasherDep, user: PageUserDep
) -> Response:
    """Create the account, log in and go to the home page."""
    rules = await signup_rules(request.state.resources)
    await check_open(rules, db)  # a 403 page saying why
    form = await request.form()
    values = form_values(form, "username", "email", "password")
    if caught(form):  # the honeypot: refused with the reason (fastblog.web.honeypot)
        return render(request, "auth/register.html", 422, values=values, errors={"form": CAUGHT})
    try:
        data = UserCreate.model_validate(values)
    except ValidationError as exc:
        return render(request, "auth/register.html", 422, values=values, errors=field_errors(exc))
    password_hash = await hasher.hash(data.password)  # slow: before the write lock
    try:
        async with db.transaction() as session:
            account = await users_service.create_user(
                session, data=data, password_hash=password_hash, role=rules.new_account_role
            )
    except users_service.DuplicateUserError as exc:
        errors = exc.errors
        return render(request, "auth/register.html", 400, values=values, errors=errors)
    log_in(request, account)
    flash(request, f"Welcome, {account.username}! Your account is ready.")
    return redirect("/")


@router.get("/login", name="login")
async def login_form(request: Request, user: PageUserDep, next: str = "/") -> Response:
    """The login form."""
    if user is not None:
        return redirect(safe_next(next))
    return render(request, "auth/login.html", values={}, error=None, next=safe_next(next))


@router.post("/login", dependencies=[CsrfProtected])
async def login(
    request: Request,
    session: SessionDep,
    hasher: HasherDep,
    throttle: ThrottleDep,
    user: PageUserDep,
    email: Annotated[str, Form(max_length=200, pattern=NO_NUL)] = "",
    password: Annotated[str, Form(max_length=200, pattern=NO_NUL)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the credentials and start a browser session."""
    values = {"email": email}
    try:
        account = await service.authenticate(
            session,
            identifier=email,
            password=password,
            address=client_address(request),
            hasher=hasher,
            throttle=throttle,
        )
    except service.LoginThrottledError as exc:
        response = render(
            request,
            "auth/login.html",
            status.HTTP_429_TOO_MANY_REQUESTS,
            values=values,
            error=exc.message,
            next=safe_next(next),
        )
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    if account is None:
        return render(
            request,
            "auth/login.html",
            status.HTTP_401_UNAUTHORIZED,
            values=values,
            error="Incorrect email, username or password.",
            next=safe_next(next),
        )
    log_in(request, account)
    flash(request, f"Welcome back, {account.username}!")
    return redirect(safe_next(next))


@router.post("/logout", dependencies=[CsrfProtected])
async def logout(request: Request) -> Response:
    """End the browser session."""
    log_out(request)
    flash(request, "You are logged out.", "info")
    return redirect("/")


@router.get("/forgot-password", name="forgot_password")
async def forgot_password_form(request: Request, user: PageUserDep) -> Response:
    """Ask for a password reset link."""
    return render(request, "auth/forgot.html", values={}, errors={})


@router.post("/forgot-password", dependencies=[CsrfProtected])
async def forgot_password(
    request: Request,
    background: BackgroundTasks,
    resources: ResourcesDep,
    mail_throttle: MailThrottleDep,
    user: PageUserDep,
    email: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Send the link (if the account exists) and say the same thing either way."""
    try:
        data = ForgotPassword(email=email)
    except ValidationError as exc:
        errors = field_errors(exc)
        return render(request, "auth/forgot.html", 422, values={"email": email}, errors=errors)
    await service.queue_reset_link(
        background,
        resources,
        mail_throttle,
        email=data.email,
        address=client_address(request),
        request_base_url=str(request.base_url),
    )
    flash(request, "If an account uses that email, a reset link is on its way.", "info")
    return redirect("/login")


@router.get("/reset-password", name="reset_password")
async def reset_password_form(request: Request, user: PageUserDep, token: str = "") -> Response:
    """Choose a new password (the link from the email lands here)."""
    return render(request, "auth/reset.html", token=token, errors={})


@router.post("/reset-password", dependencies=[CsrfProtected])
async def reset_password(
    request: Request,
    db: DatabaseDep,
    hasher: HasherDep,
    throttle: ThrottleDep,
    user: PageUserDep,
    token: Annotated[str, Form(max_length=200)] = "",
    new_password: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Set the new password and send the user to the login page."""
    try:
        data = ResetPassword(token=token, new_password=new_password)
    except ValidationError as exc:
        return render(request, "auth/reset.html", 422, token=token, errors=field_errors(exc))
    password_hash = await hasher.hash(data.new_password)
    account = await service.reset_password(
        db, throttle, token=data.token, password_hash=password_hash
    )
    if account is None:
        errors = {"token": "This reset link is invalid, already used or expired."}
        return render(request, "auth/reset.html", 400, token=token, errors=errors)
    log_out(request)
    flash(request, "Your password is changed. Log in with the new one.")
    return redirect("/login")
