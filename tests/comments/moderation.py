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
    """The site settings' `comments` mode for this test (restored after it), set as the
    roles tests set registration: the live SiteSettings copy, which
    fastblog.comments.policy.comment_policy reads on every request (the test database has
    no settings row, so the copy stays)."""

    def set_mode(mode: str) -> None:
        current = resources.site.current.model_copy(update={"comments": mode})
        monkeypatch.setattr(resources.site, "current", current)

    return set_mode


async def make_role(session: AsyncSession, role: Role | str, **overrides: object) -> User:
    """A user with this role, set on the row (fastblog.accounts owns how roles are granted)."""
    return await make_user(
        session, username=overrides.pop("username", str(role)), role=str(role), **overrides
    )
