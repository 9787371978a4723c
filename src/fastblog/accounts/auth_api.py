from datetime import timedelta
from typing import Annotated

from fastapi import BackgroundTasks, Depends, Form, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from fastblog.accounts import auth_service as service
from fastblog.accounts.dependencies import (
    HasherDep,
    MailThrottleDep,
    ThrottleDep,
    client_address,
)
from fastblog.accounts.schemas import ForgotPassword, Message, ResetPassword, Token
from fastblog.accounts.tokens import create_access_token
from fastblog.dependencies import DatabaseDep, ResourcesDep, SessionDep
from fastblog.params import NO_NUL, RETRY_AFTER, TOO_LARGE, UNAVAILABLE, Responses, error
from fastblog.routing import api_router

router = api_router(prefix="/api/users", tags=["auth"], responses=TOO_LARGE)

BAD_RESET_LINK: Responses = {
    status.HTTP_400_BAD_REQUEST: error("The reset link is invalid, used or expired")
}

BAD_LOGIN: Responses = {
    status.HTTP_401_UNAUTHORIZED: error("Wrong email, username or password"),
    status.HTTP_429_TOO_MANY_REQUESTS: error(
        "Too many failures: the message says when to try again, as does Retry-After",
        headers=RETRY_AFTER,
    ),
}

LoginField = Annotated[str, Form(min_length=1, max_length=200, pattern=NO_NUL)]


class LoginForm(OAuth2PasswordRequestForm):
    """The OAuth2 password form, with bounded fields: a NUL or a megabyte is a 422, not a login."""

    def __init__(
        self,
        *,
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
        username: LoginField,
        password: LoginField,
        scope: Annotated[str, Form(max_length=1000)] = "",
        client_id: Annotated[str | None, Form(max_length=200)] = None,
        client_secret: Annotated[str | None, Form(max_length=200)] = None,
    ) -> None:
        super().__init__(
            grant_type=grant_type,
            username=username,
            password=password,
            scope=scope,
            client_id=client_id,
            client_secret=client_secret,
        )


@router.post("/token", response_model=Token, responses=BAD_LOGIN | UNAVAILABLE)
async def login_for_token(
    request: Request,
    form: Annotated[LoginForm, Depends()],
    session: SessionDep,
    resources: ResourcesDep,
    hasher: HasherDep,
    throttle: ThrottleDep,
) -> Token:
    """Log in with email (or username) and password; returns a bearer token."""
    try:
        user = await service.authenticate(
            session,
            identifier=form.username,
            password=form.password,
            address=client_address(request),
            hasher=hasher,
            throttle=throttle,
        )
    except service.LoginThrottledError as exc:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail=exc.message,
            headers={"Retry-After": str(exc.retry_after)},
        ) from exc
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="Incorrect email, username or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    token = create_access_token(
        user.id,
        auth_version=user.auth_version,
        secret=resources.secret_key,
        lifetime=timedelta(minutes=resources.settings.access_token_minutes),
    )
    return Token(access_token=token)


@router.post(
    "/forgot-password",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Message,
    responses=UNAVAILABLE,
)
async def forgot_password(
    request: Request,
    data: ForgotPassword,
    background: BackgroundTasks,
    resources: ResourcesDep,
    mail_throttle: MailThrottleDep,
) -> Message:
    """Email a single-use reset link; the answer is the same whether or not the account exists
    (and whether or not the hourly limit of mails to that inbox is reached)."""
    await service.queue_reset_link(
        background,
        resources,
        mail_throttle,
        email=data.email,
        address=client_address(request),
        request_base_url=str(request.base_url),
    )
    return Message(detail="If an account uses that email, a reset link is on its way.")


@router.post(
    "/reset-password",
    response_model=Message,
    responses=BAD_RESET_LINK | UNAVAILABLE,
)
async def reset_password(
    data: ResetPassword, db: DatabaseDep, hasher: HasherDep, throttle: ThrottleDep
) -> Message:
    """Choose a new password with the token from the reset email."""
    password_hash = await hasher.hash(data.new_password)  # before the write lock: it is slow
    user = await service.reset_password(db, throttle, token=data.token, password_hash=password_hash)
    if user is None:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, detail="The reset link is invalid, used or expired"
        )
    return Message(detail="Password updated. You can log in with the new one.")
