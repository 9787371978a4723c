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
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from fastblog.accounts.roles import Role, at_least
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
    # What the account may do (fastblog.accounts.roles): read with the user on every
    # request, so a change takes effect at once, also for tokens and sessions issued before.
    # At most one owner: a partial unique index (below) settles two first sign-ups at once.
    role: Mapped[str] = mapped_column(
        String(12), default=Role.AUTHOR.value, server_default="author"
    )
    # The author profile: a Markdown-lite bio (as written, and rendered and sanitized once,
    # by fastblog.markup, as comments are) and a website (http or https only).
    bio: Mapped[str | None] = mapped_column(Text, default=None)
    bio_html: Mapped[str | None] = mapped_column(Text, default=None)
    website: Mapped[str | None] = mapped_column(String(200), default=None)
    # Kept by database triggers (migration 0011) in the transaction of every write, cascades
    # included, so a profile never counts rows: who follows the user, whom they follow,.
    follower_count: Mapped[int] = mapped_column(BigInteger, server_default="0")
    following_count: Mapped[int] = mapped_column(BigInteger, server_default="0")
    # The notifications the user has not read (the header shows it with every page, read with
    # the user): kept by triggers on notifications (migration 0016), never counted.
    unread_notifications: Mapped[int] = mapped_column(BigInteger, server_default="0")
    # A digest mail, at most one an hour, when someone comments on their posts or follows
    # them (fastblog.notifications.digest). Off until the user turns it on.
    notify_by_mail: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # No `posts` relationship: accounts know nothing of the packages above them. The posts'
    # foreign key has ON DELETE CASCADE, so deleting a user removes their posts.

    def at_least(self, minimum: str) -> bool:
        """Whether the account's role is `minimum` or above (templates ask this)."""
        return at_least(self.role, Role(minimum))


# Usernames are unique whatever their case: the service checks first, and this index
# settles the race between two simultaneous sign-ups as "corey" and "Corey".
Index("uq_users_username_lower", func.lower(User.username), unique=True)
# One owner per site, whatever two requests do at the same moment.
ONE_OWNER = text("role = 'owner'")
Index(
    "uq_users_one_owner", User.role, unique=True, sqlite_where=ONE_OWNER, postgresql_where=ONE_OWNER
)


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


class Invitation(Base):
    """An invitation to sign up with a role, sent by mail; single use, for a limited time.
    Only a SHA-256 of the link's token is stored, as for password resets."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(12))
    # Who sent it; their account's deletion takes their pending invitations with it.
    invited_by_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set when the link makes its account: a second use then says so instead of "unknown".
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
