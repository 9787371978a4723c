"""Users: every query about users lives here; routes only call these functions."""

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.database import RowLock
from fastblog.users.models import User
from fastblog.users.schemas import UserCreate, UserUpdate


class DuplicateUserError(Exception):
    """The username or email already belongs to another account."""


def normalize_email(email: str) -> str:
    return email.strip().lower()


async def get_user(session: AsyncSession, user_id: int, *, lock: RowLock = None) -> User | None:
    """The user; `lock` (database.FOR_UPDATE...) locks the row in a write transaction."""
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
    for taken_username, taken_email in (await session.execute(stmt.limit(2))).all():
        if username is not None and taken_username.lower() == username.lower():
            raise DuplicateUserError("Username already taken")
        if email is not None and taken_email == email:
            raise DuplicateUserError("Email already registered")


async def _commit_unique(session: AsyncSession) -> None:
    """Commit; a unique-constraint race lost to a concurrent writer becomes a 400, not a 500."""
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise DuplicateUserError("Username or email already registered") from exc


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


async def create_user(session: AsyncSession, *, data: UserCreate, password_hash: str) -> User:
    email = normalize_email(data.email)
    await _ensure_available(session, username=data.username, email=email, exclude_id=None)
    user = User(username=data.username, email=email, password_hash=password_hash)
    session.add(user)
    await _commit_unique(session)
    return user


async def update_user(session: AsyncSession, *, user: User, data: UserUpdate) -> User:
    changes = data.model_dump(exclude_unset=True)
    if "email" in changes:
        changes["email"] = normalize_email(changes["email"])
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


async def set_password_hash(session: AsyncSession, *, user: User, password_hash: str) -> None:
    user.password_hash = password_hash
    await session.commit()


async def set_picture(session: AsyncSession, *, user: User, image_file: str | None) -> str | None:
    """Point the user at a new picture; returns the file it replaces, for removal."""
    previous = user.image_file
    user.image_file = image_file
    await session.commit()
    return previous


async def delete_user(session: AsyncSession, *, user: User) -> None:
    # The database's ON DELETE CASCADE removes the posts in the same statement.
    await session.delete(user)
    await session.commit()
