"""Every model in one import, so the mapper registry and Alembic see them all."""

from fastblog.accounts.models import PasswordResetToken, User
from fastblog.db import Base
from fastblog.outbox import OutboxMail
from fastblog.posts.models import Post, PostCount, PostTag, Tag, TagPostCount, UserPostCount

__all__ = [
    "Base",
    "OutboxMail",
    "PasswordResetToken",
    "Post",
    "PostCount",
    "PostTag",
    "Tag",
    "TagPostCount",
    "User",
    "UserPostCount",
]
