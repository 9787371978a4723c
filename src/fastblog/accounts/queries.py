"""The accounts' one-statement queries (the compiled road of fastblog.db)."""

from sqlalchemy import bindparam, select, update

from fastblog.accounts.models import User
from fastblog.accounts.tokens import TokenClaims
from fastblog.db import Database, Row

AUTH_VERSION = select(User.auth_version).where(User.id == bindparam("user_id"))


async def token_is_current(db: Database, claims: TokenClaims) -> bool:
    """The token's account still exists and has not moved past the token's auth version."""
    row = await db.fetch_one(AUTH_VERSION, {"user_id": claims.user_id})
    return row is not None and row["auth_version"] == claims.auth_version


SET_MODERATOR = (
    update(User)
    .where(User.email == bindparam("email", type_=User.email.type))
    .values(is_moderator=bindparam("is_moderator", type_=User.is_moderator.type))
    .returning(User.id, User.username)
)


async def set_moderator(db: Database, *, email: str, is_moderator: bool) -> Row | None:
    """Grant or revoke the moderator role (emails are stored normalized); the account, or
    None when no account has this email."""
    rows = await db.write(SET_MODERATOR, {"email": email, "is_moderator": is_moderator})
    return rows[0] if rows else None
