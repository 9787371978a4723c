"""Logging in, and resetting a forgotten password."""

import hashlib
import logging
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlencode

from fastapi import BackgroundTasks
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import PasswordResetToken, User
from fastblog.accounts.service import get_user_by_login, normalize_email
from fastblog.config import Settings
from fastblog.db import FOR_UPDATE, Database, is_database_unavailable, utcnow
from fastblog.outbox import OutboxSender, queue_mail
from fastblog.passwords import PasswordHasher
from fastblog.resources import Resources
from fastblog.throttle import LoginThrottle, MailThrottle, wait_in_words

logger = logging.getLogger(__name__)


class LoginThrottledError(Exception):
    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        self.message = f"Too many failed logins. Try again in {wait_in_words(retry_after)}."
        super().__init__(self.message)


def throttled_name(user: User | None, identifier: str) -> str:
    """What the throttle counts under: the account itself, whichever name a login gives it."""
    return f"user:{user.id}" if user is not None else f"name:{identifier.strip().lower()}"


async def authenticate(
    session: AsyncSession,
    *,
    identifier: str,
    password: str,
    address: str,
    hasher: PasswordHasher,
    throttle: LoginThrottle,
) -> User | None:
    """The account if the password matches; None otherwise. Raises when throttled."""
    user = await get_user_by_login(session, identifier)
    account = throttled_name(user, identifier)
    retry_after = await throttle.retry_after(account, address)
    if retry_after is not None:
        raise LoginThrottledError(retry_after)
    # Verify even for an unknown account, so timing does not reveal which accounts exist.
    if not await hasher.verify(password, user.password_hash if user else None):
        await throttle.failed(account, address)
        return None
    await throttle.clear_account(account)
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_reset_token(
    session: AsyncSession, *, user: User, lifetime: timedelta
) -> tuple[str, datetime]:
    """A new single-use token for the user and when it expires; earlier ones stop working.
    Part of the caller's transaction: the caller commits."""
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + lifetime
    await session.execute(delete(PasswordResetToken).where(PasswordResetToken.user_id == user.id))
    session.add(
        PasswordResetToken(token_hash=_digest(token), user_id=user.id, expires_at=expires_at)
    )
    return token, expires_at


async def redeem_reset_token(session: AsyncSession, *, token: str) -> User | None:
    """The user a valid, unused, unexpired token belongs to; the token is spent."""
    # Locked: of two requests redeeming one token at once, the second sees it used.
    stmt = (
        select(PasswordResetToken)
        .where(PasswordResetToken.token_hash == _digest(token))
        .with_for_update()
    )
    reset = (await session.scalars(stmt)).one_or_none()
    if reset is None or reset.used_at is not None or reset.expires_at <= utcnow():
        return None
    reset.used_at = utcnow()
    return await session.get(User, reset.user_id, with_for_update=FOR_UPDATE)


RESET_SUBJECT = "Reset your fastblog password"
RESET_BODY = """Hello {username},

Someone (hopefully you) asked to reset the password of your fastblog account.
Open this link within {minutes} minutes to choose a new one:

{link}

If you did not ask for this, ignore this email: your password stays as it is.
"""


async def queue_reset_link(
    background: BackgroundTasks,
    resources: Resources,
    throttle: MailThrottle,
    *,
    email: str,
    address: str,
    request_base_url: str,
) -> None:
    """Queue the reset link after the response, unless this inbox or address has had its
    hourly share; the caller answers the same either way (no account enumeration)."""
    if not await throttle.allow(normalize_email(email), address):
        return
    settings = resources.settings
    background.add_task(
        email_reset_link,
        resources.database,
        resources.outbox,
        settings,
        email=email,
        base_url=settings.public_base_url or request_base_url,
    )


async def email_reset_link(
    db: Database, outbox: OutboxSender, settings: Settings, *, email: str, base_url: str
) -> None:
    """Runs after the response (a background task), so the answer to the request is the same,
    and as fast, whether or not the account exists.

    The token and its mail commit together in one transaction (the mail outbox,
    fastblog.outbox): from then on the mail survives a restart and is sent by whichever
    process is up. A crash in the milliseconds between the response and this commit loses
    the request, as a crash before the response would.
    """
    try:
        async with db.transaction() as session:
            user = await get_user_by_login(session, email)
            if user is None or "@" not in email:
                return
            lifetime = timedelta(minutes=settings.password_reset_minutes)
            token, expires_at = await create_reset_token(session, user=user, lifetime=lifetime)
            link = f"{base_url.rstrip('/')}/reset-password?{urlencode({'token': token})}"
            body = RESET_BODY.format(
                username=user.username, minutes=settings.password_reset_minutes, link=link
            )
            queue_mail(
                session, to=user.email, subject=RESET_SUBJECT, body=body, expires_at=expires_at
            )
            await session.commit()
    except Exception as exc:
        if not is_database_unavailable(exc):
            raise
        # The client already has its 202: say in the log why no mail went out.
        logger.error("No reset link sent: the database is unavailable (%s)", type(exc).__name__)
        return
    outbox.wake()


async def reset_password(
    db: Database, throttle: LoginThrottle, *, token: str, password_hash: str
) -> User | None:
    """Spend the token and set the new password; None if the token is not valid. The account's
    failed logins are forgotten: its owner has just proved who they are."""
    async with db.transaction() as session:
        user = await redeem_reset_token(session, token=token)
        if user is None:
            return None
        user.password_hash = password_hash
        user.auth_version += 1  # every token and browser session of the account ends
        await session.commit()
    await throttle.clear_account(throttled_name(user, ""))
    return user
