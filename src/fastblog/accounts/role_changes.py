"""Changing an account's role: who may give which role to whom, and handing ownership on.

An admin gives and takes the roles below admin; only the owner makes admins, touches the
owner's account or hands ownership on (the old owner becomes an admin). The site always has
its owner: the owner's role changes only by a handover. The operator's command line
(`fastblog users set-role`) acts with the owner's rights."""

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from fastblog.accounts.roles import RANK, Role, at_least
from fastblog.db import Database
from fastblog.exceptions import (
    ForbiddenError,
    NotAuthenticatedError,
    NotFoundError,
    StateConflictError,
)

ADMINS_ONLY = "Only an admin or the owner can change roles."
OWNER_ONLY = "Only the owner can change the owner's role or hand ownership on."
ADMIN_LIMIT = (
    "An admin can give and take only the roles below admin (editor, author, contributor, "
    "reader); only the owner can make or change an admin."
)
OWNER_STAYS = (
    "The site always has an owner: hand ownership on first (give another account the role "
    "owner; you then become an admin), and then change your role."
)


def check_change(by: User | None, target: User, role: Role) -> None:
    """Raise ForbiddenError unless `by` (None: the operator) may give `target` this role;
    StateConflictError when the owner (or the operator) would leave the site ownerless."""
    if target.role == Role.OWNER and role != Role.OWNER:
        if by is None or by.role == Role.OWNER:
            raise StateConflictError(OWNER_STAYS, field="role")
        raise ForbiddenError(OWNER_ONLY)
    if by is None or by.role == Role.OWNER:
        return
    if not at_least(by.role, Role.ADMIN):
        raise ForbiddenError(ADMINS_ONLY)
    if role == Role.OWNER or target.role == Role.OWNER:
        raise ForbiddenError(OWNER_ONLY)
    if target.id != by.id and RANK[Role(target.role)] >= RANK[Role.ADMIN]:
        raise ForbiddenError(ADMIN_LIMIT)
    if RANK[role] >= RANK[Role.ADMIN] and target.role != role:
        raise ForbiddenError(ADMIN_LIMIT)


async def _locked(session: AsyncSession, *ids: int) -> dict[int, User]:
    """These accounts and the owner's, locked in one statement in id order (the one order
    every role change takes: two handovers at once wait instead of deadlocking)."""
    stmt = (
        select(User)
        .where(or_(User.id.in_(ids), User.role == Role.OWNER.value))
        .order_by(User.id)
        .with_for_update()
    )
    return {user.id: user for user in (await session.scalars(stmt)).all()}


async def change_role(
    db: Database, *, target_id: int, role: Role, by_id: int | None, auth_version: int | None = None
) -> User:
    """Give the account `target_id` the role, as `by_id` (None: the operator); a handover
    of ownership demotes the old owner to admin in the same transaction. 401 if `by_id` is
    gone (or past `auth_version`), 404 for an unknown target, 403 as check_change says."""
    async with db.transaction() as session:
        accounts = await _locked(session, target_id, *([] if by_id is None else [by_id]))
        by = None if by_id is None else accounts.get(by_id)
        if by_id is not None and (
            by is None or (auth_version is not None and by.auth_version != auth_version)
        ):
            raise NotAuthenticatedError("Invalid or expired token")
        target = accounts.get(target_id)
        if target is None:
            raise NotFoundError("User not found")
        check_change(by, target, role)
        if role == Role.OWNER and target.role != Role.OWNER:
            for owner in [user for user in accounts.values() if user.role == Role.OWNER]:
                owner.role = Role.ADMIN.value
            # Before the new owner is written: the one-owner index checks each statement.
            await session.flush()
        target.role = role.value
        await session.commit()
    return target


async def user_id_by_email(db: Database, email: str) -> int | None:
    async with db.session() as session:
        found: int | None = await session.scalar(select(User.id).where(User.email == email))
        return found
