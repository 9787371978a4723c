"""Builders for the moderation tests: users of each role, the site's comment mode."""

from collections.abc import Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from fastblog.accounts.roles import Role
from fastblog.resources import Resources
from tests.factories import make_user

SetMode = Callable[[str], None]


def set_comments_mode(resources: Resources, monkeypatch: pytest.MonkeyPatch) -> SetMode:
    """The site's `comments` mode for this test (restored after it). Read through
    fastblog.comments.policy.comment_policy, as every request reads it."""

    def set_mode(mode: str) -> None:
        monkeypatch.setattr(resources.settings, "comments", mode)

    return set_mode


async def make_role(session: AsyncSession, role: Role | str, **overrides: object) -> User:
    """A user with this role, set on the row (the roles branch owns how roles are granted)."""
    return await make_user(
        session, username=overrides.pop("username", str(role)), role=str(role), **overrides
    )
