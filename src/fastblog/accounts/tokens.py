"""Bearer tokens for the API: short-lived JWTs naming the user and the account's auth version
(`users.auth_version`): a token stops working when the version moves on."""

from datetime import timedelta
from typing import NamedTuple

import jwt

from fastblog.db import utcnow

ALGORITHM = "HS256"


class TokenClaims(NamedTuple):
    user_id: int
    auth_version: int


def create_access_token(
    user_id: int, *, secret: str, lifetime: timedelta, auth_version: int = 0
) -> str:
    now = utcnow()
    claims = {"sub": str(user_id), "ver": auth_version, "iat": now, "exp": now + lifetime}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_token(token: str, *, secret: str) -> TokenClaims | None:
    """Who the token names, or None if it is malformed, tampered with or expired."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "exp", "ver"]}
        )
        user_id, version = int(claims["sub"]), claims["ver"]
    except (jwt.InvalidTokenError, ValueError, TypeError):
        return None
    if user_id <= 0 or type(version) is not int or version < 0:
        return None
    return TokenClaims(user_id, version)
