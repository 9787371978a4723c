"""Invitations: an admin (or the owner) invites someone by email with a role; the mailed link
(single use, INVITATION_DAYS) lets them pick a username and password and join with that role.
Only a SHA-256 of the link's token is stored, as for password resets."""

import hashlib
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import Invitation, User
from fastblog.accounts.roles import RANK, Role, at_least
from fastblog.accounts.schemas import UserCreate
from fastblog.accounts.service import create_user, normalize_email
from fastblog.db import FOR_UPDATE, Database, utcnow
from fastblog.exceptions import (
    ConflictError,
    DomainError,
    ForbiddenError,
    NotAuthenticatedError,
    NotFoundError,
)
from fastblog.outbox import queue_mail
from fastblog.resources import Resources

ADMINS_ONLY = "Only an admin or the owner can send or revoke invitations."
BELOW_YOURS = "You can invite people only with a role below your own ({roles})."


class InvitationGoneError(DomainError):
    """A link that was valid once: used, expired or revoked."""

    status_code = 410


SUBJECT = "You are invited to {site}"
BODY = """Hello,

{inviter} invites you to join {site} as {article} {role}.

Open this link within {days} days to pick your username and password:

{link}

The link works once. If you did not expect this, ignore this email.
"""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def roles_to_give(role: str) -> list[Role]:
    """What someone of `role` may invite with: the roles below theirs (never owner)."""
    if not at_least(role, Role.ADMIN):
        return []
    return [given for given in Role if RANK[given] < RANK[Role(role)]]


async def _admin(session: AsyncSession, user_id: int, lock: bool = False) -> User:
    user = await session.get(User, user_id, with_for_update=FOR_UPDATE if lock else None)
    if user is None:
        raise NotAuthenticatedError("Your account no longer exists.")
    if not at_least(user.role, Role.ADMIN):
        raise ForbiddenError(ADMINS_ONLY)
    return user


async def invite(
    resources: Resources, *, by_id: int, email: str, role: Role, base_url: str
) -> Invitation:
    """Record the invitation and queue its mail (fastblog.outbox) in one transaction; an
    earlier invitation to the same address stops working."""
    email = normalize_email(email)
    days = resources.settings.invitation_days
    async with resources.database.transaction() as session:
        inviter = await _admin(session, by_id, lock=True)
        allowed = roles_to_give(inviter.role)
        if role not in allowed:
            names = ", ".join(given.value for given in allowed)
            raise ForbiddenError(BELOW_YOURS.format(roles=names), field="role")
        if await session.scalar(select(User.id).where(User.email == email)) is not None:
            raise ConflictError("This address already has an account.", field="email")
        await session.execute(
            delete(Invitation).where(Invitation.email == email, Invitation.accepted_at.is_(None))
        )
        token = secrets.token_urlsafe(32)
        invitation = Invitation(
            token_hash=_digest(token),
            email=email,
            role=role.value,
            invited_by_id=inviter.id,
            expires_at=utcnow() + timedelta(days=days),
        )
        session.add(invitation)
        site = resources.settings.site_name
        link = f"{base_url.rstrip('/')}/join?{urlencode({'token': token})}"
        body = BODY.format(
            inviter=inviter.username,
            site=site,
            article="an" if role.value[0] in "aeiou" else "a",
            role=role.value,
            days=days,
            link=link,
        )
        queue_mail(
            session,
            to=email,
            subject=SUBJECT.format(site=site),
            body=body,
            expires_at=invitation.expires_at,
        )
        await session.commit()
    resources.outbox.wake()
    return invitation


async def pending(db: Database, *, by_id: int, now: datetime) -> list[Invitation]:
    """Invitations not yet used and not expired, newest first (for an admin)."""
    async with db.session() as session:
        await _admin(session, by_id)
        stmt = (
            select(Invitation)
            .where(Invitation.accepted_at.is_(None), Invitation.expires_at > now)
            .order_by(Invitation.created_at.desc(), Invitation.id.desc())
        )
        return list((await session.scalars(stmt)).all())


async def revoke(db: Database, *, by_id: int, invitation_id: int) -> None:
    """Delete a pending invitation: its link stops working. 404 for an unknown or used one."""
    async with db.transaction() as session:
        await _admin(session, by_id)
        removed = await session.execute(
            delete(Invitation)
            .where(Invitation.id == invitation_id, Invitation.accepted_at.is_(None))
            .returning(Invitation.id)
        )
        if removed.first() is None:
            raise NotFoundError("No pending invitation has this id.")
        await session.commit()


async def _valid(session: AsyncSession, token: str, *, lock: bool = False) -> Invitation:
    stmt = select(Invitation).where(Invitation.token_hash == _digest(token))
    if lock:  # of two uses of one link at once, the second sees it used
        stmt = stmt.with_for_update()
    invitation = (await session.scalars(stmt)).one_or_none()
    if invitation is None:
        raise InvitationGoneError(
            "This invitation link does not work: it was revoked or replaced, or is mistyped."
        )
    if invitation.accepted_at is not None:
        raise InvitationGoneError("This invitation has already been used. Log in instead.")
    if invitation.expires_at <= utcnow():
        raise InvitationGoneError("This invitation has expired: ask for a new one.")
    return invitation


async def find(db: Database, token: str) -> Invitation:
    """The invitation a link names, if it can still be used (InvitationGoneError if not)."""
    async with db.session() as session:
        return await _valid(session, token)


async def accept(
    db: Database, *, token: str, username: str, password: str, password_hash: str
) -> User:
    """Spend the invitation: the new account, with the invitation's email and role."""
    async with db.transaction() as session:
        invitation = await _valid(session, token, lock=True)
        invitation.accepted_at = utcnow()
        data = UserCreate(username=username, email=invitation.email, password=password)
        # Commits the invitation's use with the account (or neither: a name already taken).
        return await create_user(
            session,
            data=data,
            password_hash=password_hash,
            role=Role(invitation.role),
            may_own=False,
        )
