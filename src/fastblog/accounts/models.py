from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from fastblog.db import Base, BigId, UTCDateTime, utcnow


class User(Base):
    __tablename__ = "users"
    # Ids only grow on SQLite too: a token or link to a deleted account never names a new one.
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    email: Mapped[str] = mapped_column(String(120), unique=True)
    image_file: Mapped[str | None] = mapped_column(String(200), default=None)
    # An argon2 hash (never the password); never part of any response schema.
    password_hash: Mapped[str] = mapped_column(String(255))
    # Part of every bearer token and browser session: a password change or reset, or "log out
    # everywhere", adds one, and every token and session issued before stops working.
    auth_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # May delete anyone's comments and posts. Set only by `fastblog users grant-moderator`
    # (no API), and read with the user on every request: granting or revoking it takes
    # effect at once, also for tokens and sessions issued before.
    is_moderator: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # What the user may do (fastblog.accounts.roles): read on every request that needs it.
    # The roles branch's migration adds the column; see the stand-in migration 0013.
    role: Mapped[str] = mapped_column(String(12), server_default="author")
    # The author profile: a Markdown-lite bio (as written, and rendered and sanitized once,
    # by fastblog.markup, as comments are) and a website (http or https only).
    bio: Mapped[str | None] = mapped_column(Text, default=None)
    bio_html: Mapped[str | None] = mapped_column(Text, default=None)
    website: Mapped[str | None] = mapped_column(String(200), default=None)
    # Kept by database triggers (migration 0011) in the transaction of every write, cascades
    # included, so a profile never counts rows: who follows the user, whom they follow,.
    follower_count: Mapped[int] = mapped_column(BigInteger, server_default="0")
    following_count: Mapped[int] = mapped_column(BigInteger, server_default="0")
    # No `posts` relationship: accounts know nothing of the packages above them. The posts'
    # foreign key has ON DELETE CASCADE, so deleting a user removes their posts.


# Usernames are unique whatever their case: the service checks first, and this index
# settles the race between two simultaneous sign-ups as "corey" and "Corey".
Index("uq_users_username_lower", func.lower(User.username), unique=True)


class PasswordResetToken(Base):
    """A single-use reset link. Only a SHA-256 of the token is stored: a leaked
    database does not let anyone reset a password."""

    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class Follow(Base):
    """`follower_id` follows `followee_id`. Triggers keep both users' counts."""

    __tablename__ = "follows"
    __table_args__ = (
        # A user's followers (and the foreign key's lookups when a followee is deleted); the
        # primary key serves whom a user follows (the feed) and "do I follow them?".
        Index("ix_follows_followee_id_follower_id", "followee_id", "follower_id"),
        CheckConstraint("follower_id <> followee_id", name="not_self"),
    )

    follower_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    followee_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
