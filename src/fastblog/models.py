"""Every model in one import, so the mapper registry and Alembic see them all."""

from fastblog.auth.models import PasswordResetToken
from fastblog.database import Base
from fastblog.posts.models import Post, PostCount
from fastblog.users.models import User

__all__ = ["Base", "PasswordResetToken", "Post", "PostCount", "User"]
