"""Every model in one import, so the mapper registry and Alembic see them all."""

from fastblog.accounts.models import Follow, PasswordResetToken, User
from fastblog.db import Base
from fastblog.posts.models import Post, PostCount, PostLike, PostTag, Tag

__all__ = [
    "Base",
    "Follow",
    "PasswordResetToken",
    "Post",
    "PostCount",
    "PostLike",
    "PostTag",
    "Tag",
    "User",
]
