"""Who may sign up, and with which role: the one place that reads it."""

from dataclasses import dataclass

from sqlalchemy import select

from fastblog.accounts.models import User
from fastblog.accounts.roles import Role
from fastblog.db import Database
from fastblog.exceptions import ForbiddenError
from fastblog.resources import Resources

OPEN, INVITE, CLOSED = "open", "invite", "closed"
CLOSED_MESSAGE = "Sign-up is closed on this site."
INVITE_MESSAGE = (
    "This site takes new accounts by invitation only: ask one of its admins for an invitation."
)


ANY_ACCOUNT = select(User.id).limit(1)


@dataclass(frozen=True, slots=True)
class SignupRules:
    registration: str  # OPEN, INVITE or CLOSED
    new_account_role: Role


async def signup_rules(resources: Resources) -> SignupRules:
    """Sign-up as the owner has it now: the site settings' registration and new_account_role
    (REGISTRATION and NEW_ACCOUNT_ROLE give only a new database's first values)."""
    site = resources.site.current
    return SignupRules(site.registration, Role(site.new_account_role))


async def site_is_empty(db: Database) -> bool:
    """No account yet: the first sign-up (the owner's) is taken whatever REGISTRATION says."""
    return await db.fetch_one(ANY_ACCOUNT, {}) is None


async def check_open(rules: SignupRules, db: Database) -> None:
    """ForbiddenError unless anyone may sign up now (an invitation has its own road)."""
    if rules.registration == OPEN or await site_is_empty(db):
        return
    if rules.registration == CLOSED:
        raise ForbiddenError(CLOSED_MESSAGE)
    if rules.registration == INVITE:
        raise ForbiddenError(INVITE_MESSAGE)
