"""The accounts' one-statement queries (the compiled road of fastblog.db)."""

from sqlalchemy import bindparam, select

from fastblog.accounts.models import User
from fastblog.accounts.tokens import TokenClaims
from fastblog.db import Database

AUTH_VERSION = select(User.auth_version).where(User.id == bindparam("user_id"))


async def token_is_current(db: Database, claims: TokenClaims) -> bool:
    """The token's account still exists and has not moved past the token's auth version."""
    row = await db.fetch_one(AUTH_VERSION, {"user_id": claims.user_id})
    return row is not None and row["auth_version"] == claims.auth_version
