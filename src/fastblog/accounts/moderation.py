"""Moderators (editors and above): who they are (read with the user, per request) and the
line each of their deletions leaves in the log."""

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from fastblog.accounts.roles import Role

logger = logging.getLogger("fastblog.moderation")


async def moderator(session: AsyncSession, user_id: int) -> User | None:
    """The user, if they moderate now (an editor or above; the role is read at the time of
    the request, so a change counts at once, also for tokens issued before)."""
    user = await session.get(User, user_id)
    return user if user is not None and user.at_least(Role.EDITOR) else None


def log_deletion(by: User, *, kind: str, item_id: int, author_id: int, author: str) -> None:
    """What a moderator removed that was not theirs: who, what, whose."""
    logger.warning(
        "Moderator %s (user %d) deleted %s %d by %s (user %d)",
        by.username,
        by.id,
        kind,
        item_id,
        author,
        author_id,
    )
