"""Bearer tokens for the API: short-lived JWTs naming the user."""

from datetime import timedelta

import jwt

from fastblog.db import utcnow

ALGORITHM = "HS256"


def create_access_token(user_id: int, *, secret: str, lifetime: timedelta) -> str:
    now = utcnow()
    claims = {"sub": str(user_id), "iat": now, "exp": now + lifetime}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def user_id_from_token(token: str, *, secret: str) -> int | None:
    """The user the token names, or None if it is malformed, tampered with or expired."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "exp"]}
        )
        user_id = int(claims["sub"])
    except (jwt.InvalidTokenError, ValueError, TypeError):
        return None
    return user_id if user_id > 0 else None
