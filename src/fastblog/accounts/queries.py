"""The accounts' one-statement queries (the compiled road of fastblog.db)."""

from sqlalchemy import bindparam, select

from fastblog.accounts.models import User
from fastblog.accounts.tokens import TokenClaims
from fastblog.db import Database

AUTH_VERSION = select(User.auth_version, User.role).where(User.id == bindparam("user_id"))


async def current_role(db: Database, claims: TokenClaims) -> str | None:
    """The role of the token's account now, or None if the account is gone or has moved past
    the token's auth version (a password change, "log out everywhere")."""
    row = await db.fetch_one(AUTH_VERSION, {"user_id": claims.user_id})
    if row is None or row["auth_version"] != claims.auth_version:
        return None
    role: str = row["role"]
    return role
