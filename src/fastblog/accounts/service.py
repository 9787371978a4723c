"""Accounts: every query about users lives here; routes only call these functions."""

from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.deletion import AccountDeletion
from fastblog.accounts.models import User
from fastblog.accounts.roles import Role
from fastblog.accounts.schemas import UserCreate, UserUpdate
from fastblog.db import FOR_UPDATE, Database, RowLock
from fastblog.exceptions import (
    ConflictError,
    DomainError,
    NotAuthenticatedError,
    StateConflictError,
)
from fastblog.markup import render_lite
from fastblog.passwords import PasswordHasher


class DuplicateUserError(ConflictError):
    """The username or email already belongs to another account: `errors` has a message for
    each field that is taken (a form shows them all at once)."""

    def __init__(self, errors: dict[str, str]) -> None:
        message = "; ".join(errors.values()) or "Username or email already registered"
        super().__init__(message, field=next(iter(errors), None))
        self.errors = errors or {"username": message}


class WrongPasswordError(DomainError):
    """The current password given to confirm a change is not the account's."""


OWNER_CANNOT_LEAVE = (
    "You own this site, so your account cannot be deleted yet: hand ownership on first (give "
    "another account the role owner; you then become an admin), then delete your account."
)


def normalize_email(email: str) -> str:
    return email.strip().lower()


async def get_user(session: AsyncSession, user_id: int, *, lock: RowLock = None) -> User | None:
    """The user; `lock` (fastblog.db.FOR_UPDATE...) locks the row in a write transaction."""
    return await session.get(User, user_id, with_for_update=lock)


async def _ensure_available(
    session: AsyncSession, *, username: str | None, email: str | None, exclude_id: int | None
) -> None:
    conditions = []
    if username is not None:
        conditions.append(func.lower(User.username) == username.lower())
    if email is not None:
        conditions.append(User.email == email)
    if not conditions:
        return
    stmt = select(User.username, User.email).where(or_(*conditions))
    if exclude_id is not None:
        stmt = stmt.where(User.id != exclude_id)
    errors = {}
    for taken_username, taken_email in (await session.execute(stmt.limit(2))).all():
        if username is not None and taken_username.lower() == username.lower():
            errors["username"] = "Username already taken"
        if email is not None and taken_email == email:
            errors["email"] = "Email already registered"
    if errors:
        raise DuplicateUserError(
            dict(sorted(errors.items(), key=lambda item: item[0] != "username"))
        )


async def _commit_unique(session: AsyncSession) -> None:
    """Commit; a unique-constraint race lost to a concurrent writer becomes a 400, not a 500."""
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise DuplicateUserError({}) from exc


async def get_user_by_login(session: AsyncSession, identifier: str) -> User | None:
    """The account a login names, by email or by username."""
    identifier = identifier.strip()
    if not identifier or "\x00" in identifier:  # no account has one; PostgreSQL rejects NUL
        return None
    if "@" in identifier:
        condition = User.email == normalize_email(identifier)
    else:
        condition = func.lower(User.username) == identifier.lower()
    return (await session.scalars(select(User).where(condition))).one_or_none()


async def create_user(
    session: AsyncSession, *, data: UserCreate, password_hash: str, role: Role, may_own: bool = True
) -> User:
    """A new account with `role`; the first account of an empty site is its owner instead.
    Two first sign-ups at once: the one-owner index lets one commit as owner, and the other
    is made again with `role`."""
    email = normalize_email(data.email)
    await _ensure_available(session, username=data.username, email=email, exclude_id=None)
    first = may_own and not await session.scalar(select(exists().where(User.id.is_not(None))))
    user = User(
        username=data.username,
        email=email,
        password_hash=password_hash,
        role=(Role.OWNER if first else role).value,
    )
    session.add(user)
    if not first:
        await _commit_unique(session)
        return user
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        # Another first sign-up won (or took this name or email: then the retry says so).
        return await create_user(
            session, data=data, password_hash=password_hash, role=role, may_own=False
        )
    return user


async def update_user(session: AsyncSession, *, user: User, data: UserUpdate) -> User:
    changes = data.model_dump(exclude_unset=True)
    if "email" in changes:
        changes["email"] = normalize_email(changes["email"])
    if "bio" in changes:
        # At most 500 characters: rendered inline (well under a millisecond), stored once.
        changes["bio"] = changes["bio"] or None
        changes["bio_html"] = render_lite(changes["bio"]) if changes["bio"] else None
    if "website" in changes:
        changes["website"] = changes["website"] or None
    await _ensure_available(
        session,
        username=changes.get("username"),
        email=changes.get("email"),
        exclude_id=user.id,
    )
    for field, value in changes.items():
        setattr(user, field, value)
    await _commit_unique(session)
    return user


async def change_password(
    db: Database,
    hasher: PasswordHasher,
    *,
    user: User,
    current_password: str,
    new_password: str,
) -> User:
    """Check the current password, then store the new one (for the API and the form alike).

    Both hashes (~100 ms of CPU each, in threads) happen before the write transaction."""
    if not await hasher.verify(current_password, user.password_hash):
        raise WrongPasswordError("That is not your current password.", field="current_password")
    password_hash = await hasher.hash(new_password)
    async with db.transaction() as session:
        account = await get_user(session, user.id, lock=FOR_UPDATE)
        if account is None:
            raise NotAuthenticatedError("Your account no longer exists.")
        account.password_hash = password_hash
        account.auth_version += 1  # every token and other browser session ends
        await session.commit()
    return account


async def log_out_everywhere(db: Database, *, user: User) -> User:
    """End every bearer token and browser session of the account."""
    async with db.transaction() as session:
        account = await get_user(session, user.id, lock=FOR_UPDATE)
        if account is None:
            raise NotAuthenticatedError("Your account no longer exists.")
        account.auth_version += 1
        await session.commit()
    return account


async def delete_account(
    db: Database,
    hasher: PasswordHasher,
    *,
    user: User,
    password: str,
    deletion: AccountDeletion,
) -> str | None:
    """Delete the account and its posts once the password confirms it; returns the picture
    file to remove. The hash check (~100 ms, in a thread) comes before the write lock."""
    check_can_leave(user)  # before the hash; delete_user checks again under the lock
    if not await hasher.verify(password, user.password_hash):
        raise WrongPasswordError("That is not your password.", field="password")
    async with db.transaction() as session:
        account = await get_user(session, user.id, lock=FOR_UPDATE)
        if account is None:
            raise NotAuthenticatedError("Your account no longer exists.")
        picture = account.image_file
        await delete_user(session, user=account, deletion=deletion)
    return picture


async def set_picture(session: AsyncSession, *, user: User, image_file: str | None) -> str | None:
    """Point the user at a new picture; returns the file it replaces, for removal."""
    previous = user.image_file
    user.image_file = image_file
    await session.commit()
    return previous


def check_can_leave(user: User) -> None:
    """The site always has an owner: the owner's account stays until ownership is handed on."""
    if user.role == Role.OWNER:
        raise StateConflictError(OWNER_CANNOT_LEAVE)


async def delete_user(session: AsyncSession, *, user: User, deletion: AccountDeletion) -> None:
    """Delete the account (loaded and locked in `session`, so its role is the current one)."""
    check_can_leave(user)
    # Before the row goes: what the handlers need (its followers) goes with it.
    await deletion.deleting(session, user.id)
    # The database's ON DELETE CASCADE removes the posts in the same statement.
    await session.delete(user)
    await session.commit()
    deletion.committed()
