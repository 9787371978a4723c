"""Bearer tokens for the API: short-lived JWTs naming the user and the account's auth version
(`users.auth_version`): a token stops working when the version moves on."""

import time
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


# Tokens found good, with their expiry, by (key, token): checking a token's signature and
# claims costs ~48 us (PyJWT: ~5% of a write's CPU, more of a logged-in read's), and a client
# sends the same token with every request until it expires. A kept token is the exact string
# that was checked, signature included, so it gives the answer a new check would, except for
# the time: its expiry is compared with the clock on every use. Only good tokens are kept: a
# bad one is checked each time, as before (and one refused for a clock behind its issuer's is
# not refused twice).
_CHECKED: dict[tuple[str, str], tuple[TokenClaims, int]] = {}
CHECKED_MAX = 4096  # forgotten all at once when full: each is checked again on its next use


def read_token(token: str, *, secret: str) -> TokenClaims | None:
    """Who the token names, or None if it is malformed, tampered with or expired."""
    checked = _CHECKED.get((secret, token))
    if checked is None:
        checked = _check(token, secret)
        if checked is None:
            return None
        if len(_CHECKED) >= CHECKED_MAX:
            _CHECKED.clear()
        _CHECKED[secret, token] = checked
    claims, expires = checked
    # PyJWT's own test: expired once the clock reaches `exp` (no leeway).
    return claims if time.time() < expires else None


def _check(token: str, secret: str) -> tuple[TokenClaims, int] | None:
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "exp", "ver"]}
        )
        user_id, version, expires = int(claims["sub"]), claims["ver"], int(claims["exp"])
    except (jwt.InvalidTokenError, ValueError, TypeError):
        return None
    if user_id <= 0 or type(version) is not int or version < 0:
        return None
    return TokenClaims(user_id, version), expires
