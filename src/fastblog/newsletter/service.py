"""Subscribing (double opt-in), confirming, leaving; what the admin page reads and removes."""

import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import Invitation, PasswordResetToken, User
from fastblog.accounts.roles import Role, at_least
from fastblog.accounts.service import normalize_email
from fastblog.db import Database, is_database_unavailable, utcnow
from fastblog.newsletter.models import Subscription
from fastblog.outbox import OutboxMail, OutboxSender, queue_mail

logger = logging.getLogger(__name__)

# An unconfirmed subscription (and its link) is forgotten after this.
UNCONFIRMED_DAYS = 7
TOPIC_PREFIX = "newsletter:"

CONFIRM_SUBJECT = "Confirm your subscription to {site}"
CONFIRM_BODY = """Hello,

Someone (hopefully you) asked to receive new posts from {what} by email at this address.
Open this link and press the button to confirm (it works for {days} days):

{link}

If you did not ask for this, ignore this email: nothing will be sent to you.
"""


def _scope(author_id: int | None) -> Any:
    return (
        Subscription.author_id.is_(None)
        if author_id is None
        else Subscription.author_id == author_id
    )


async def address_verified(session: AsyncSession, user: User) -> bool:
    """Whether the account's address has been proven: it received a link that was used (a
    password reset, or the invitation the account was made from). The account model keeps
    no "verified" flag; these are the only mails that prove an inbox."""
    reset = select(PasswordResetToken.id).where(
        PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_not(None)
    )
    invited = select(Invitation.id).where(
        func.lower(Invitation.email) == user.email.lower(), Invitation.accepted_at.is_not(None)
    )
    for query in (reset, invited):
        if await session.scalar(query.limit(1)) is not None:
            return True
    return False


async def subscribe(
    db: Database,
    outbox: OutboxSender,
    *,
    email: str,
    author_id: int | None,
    base_url: str,
    site_title: str,
    confirmed: bool = False,
) -> None:
    """Subscribe `email` to the site (author_id None) or to an author. With `confirmed` (a
    signed-in reader whose address is proven) it is confirmed at once; otherwise a
    confirmation mail is queued. A confirmed subscription stays as it is; an unknown author
    does nothing. The caller answers the same whatever happens (no enumeration)."""
    email = normalize_email(email)
    try:
        async with db.transaction() as session:
            what = site_title
            if author_id is not None:
                author = await session.get(User, author_id)
                if author is None or not at_least(author.role, Role.CONTRIBUTOR):
                    return
                what = f"{author.username} on {site_title}"
            found = await session.scalar(
                select(Subscription).where(Subscription.email == email, _scope(author_id))
            )
            if found is not None and found.confirmed_at is not None:
                return
            if found is None:
                found = Subscription(
                    email=email, author_id=author_id, token=secrets.token_urlsafe(32)
                )
                session.add(found)
            else:
                found.created_at = utcnow()  # asked again: the week starts again
            if confirmed:
                found.confirmed_at = utcnow()
            else:
                link = f"{base_url.rstrip('/')}/subscriptions/confirm/{found.token}"
                body = CONFIRM_BODY.format(what=what, link=link, days=UNCONFIRMED_DAYS)
                queue_mail(
                    session,
                    to=email,
                    subject=CONFIRM_SUBJECT.format(site=site_title),
                    body=body,
                    expires_at=utcnow() + timedelta(days=UNCONFIRMED_DAYS),
                )
            await session.commit()
    except IntegrityError:
        return  # the same address subscribed by another request at the same moment
    except Exception as exc:
        if not is_database_unavailable(exc):
            raise
        logger.error("No subscription recorded: the database is unavailable")
        return
    outbox.wake()


async def find(db: Database, token: str) -> Subscription | None:
    """The subscription a link names (an unconfirmed one only while it is fresh)."""
    async with db.session() as session:
        found = await session.scalar(select(Subscription).where(Subscription.token == token))
    if found is None or (found.confirmed_at is None and found.created_at <= _stale_before()):
        return None
    return found


def _stale_before() -> datetime:
    return utcnow() - timedelta(days=UNCONFIRMED_DAYS)


async def confirm(db: Database, token: str) -> Subscription | None:
    """Confirm the subscription the link names; None if there is none (or it went stale)."""
    async with db.transaction() as session:
        found = await session.scalar(
            select(Subscription).where(Subscription.token == token).with_for_update()
        )
        if found is None:
            return None
        if found.confirmed_at is None:
            if found.created_at <= _stale_before():
                return None
            found.confirmed_at = utcnow()
        await session.commit()
        return found


async def subscriptions_of(db: Database, email: str) -> list[dict[str, Any]]:
    """An address's subscriptions, with the author's name (None: the whole site)."""
    async with db.session() as session:
        rows = await session.execute(
            select(Subscription.id, Subscription.confirmed_at, User.username)
            .outerjoin(User, User.id == Subscription.author_id)
            .where(Subscription.email == email)
            .order_by(Subscription.id)
        )
        return [dict(row._mapping) for row in rows]


async def _take_back_mails(session: AsyncSession, email: str) -> None:
    """Newsletter mails to `email` not yet being sent: they are not sent."""
    now = utcnow()
    await session.execute(
        delete(OutboxMail)
        .where(
            OutboxMail.topic.like(f"{TOPIC_PREFIX}%"),
            OutboxMail.recipient == email,
            OutboxMail.failed_at.is_(None),
            or_(OutboxMail.claimed_until.is_(None), OutboxMail.claimed_until <= now),
        )
        .execution_options(synchronize_session=False)
    )


async def unsubscribe(db: Database, token: str) -> str | None:
    """Leave: every subscription of the address the link names goes, and so do the mails
    still waiting for it. The address, or None if the link names nothing (left already)."""
    async with db.transaction() as session:
        email = await session.scalar(select(Subscription.email).where(Subscription.token == token))
        if email is None:
            return None
        await session.execute(delete(Subscription).where(Subscription.email == email))
        await _take_back_mails(session, email)
        await session.commit()
    return email


async def forget_unconfirmed(db: Database) -> int:
    """Unconfirmed subscriptions older than UNCONFIRMED_DAYS go; how many."""
    async with db.transaction() as session:
        result = await session.execute(
            delete(Subscription)
            .where(Subscription.confirmed_at.is_(None), Subscription.created_at <= _stale_before())
            .returning(Subscription.id)
        )
        gone = len(result.all())
        await session.commit()
    return gone


# -- for admins -------------------------------------------------------------------------


async def counts(db: Database) -> list[dict[str, Any]]:
    """Subscribers by scope (the site, then each author by name): confirmed and not."""
    confirmed = func.count(Subscription.confirmed_at)
    async with db.session() as session:
        rows = await session.execute(
            select(
                Subscription.author_id,
                User.username,
                confirmed.label("confirmed"),
                (func.count() - confirmed).label("unconfirmed"),
            )
            .outerjoin(User, User.id == Subscription.author_id)
            .group_by(Subscription.author_id, User.username)
            .order_by(Subscription.author_id.is_not(None), User.username)
        )
        return [dict(row._mapping) for row in rows]


EXPORT_COLUMNS = ("id", "email", "author_id", "author", "created_at", "confirmed_at")


async def subscribers(
    db: Database, *, author_id: int | None = None, site: bool = False, limit: int | None = None
) -> list[dict[str, Any]]:
    """Subscriptions, oldest first (all, the site's with `site`, or one author's)."""
    query = (
        select(
            Subscription.id,
            Subscription.email,
            Subscription.author_id,
            User.username.label("author"),
            Subscription.created_at,
            Subscription.confirmed_at,
        )
        .outerjoin(User, User.id == Subscription.author_id)
        .order_by(Subscription.id)
    )
    if site:
        query = query.where(Subscription.author_id.is_(None))
    elif author_id is not None:
        query = query.where(Subscription.author_id == author_id)
    if limit is not None:
        query = query.limit(limit)
    async with db.session() as session:
        return [dict(row._mapping) for row in await session.execute(query)]


async def remove(db: Database, subscription_id: int) -> bool:
    """An admin removes a subscription (and the mails waiting for it, if it was the address's
    last); whether there was one."""
    async with db.transaction() as session:
        found = await session.get(Subscription, subscription_id, with_for_update=True)
        if found is None:
            return False
        await session.delete(found)
        await session.flush()
        others = await session.scalar(
            select(Subscription.id).where(Subscription.email == found.email).limit(1)
        )
        if others is None:
            await _take_back_mails(session, found.email)
        await session.commit()
    return True
