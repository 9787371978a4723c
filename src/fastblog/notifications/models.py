from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from fastblog.db import Base, BigId, UTCDateTime, utcnow

COMMENT = "comment"
FOLLOW = "follow"
LIKE = "like"
KINDS = (COMMENT, FOLLOW, LIKE)
# What the mail digest tells about (likes only show in the app).
MAILED_KINDS = (COMMENT, FOLLOW)
TO_MAIL = text("mailed_at IS NULL AND read_at IS NULL")


class Notification(Base):
    """Something that happened to `recipient_id` because of `actor_id`: a comment on their
    post (approved), a new follower, a like. Written by database triggers (migration 0016) in
    the transaction of the comment, follow or like itself; every foreign key cascades, so a
    deleted comment, post or user takes its notifications with it, and an unlike or unfollow
    removes its own. `users.unread_notifications` is kept by triggers too."""

    __tablename__ = "notifications"
    __table_args__ = (
        # A user's notifications, newest first, after an id cursor; "mark read up to".
        Index("ix_notifications_recipient_id_id", "recipient_id", "id"),
        # The cascades when an actor, post or comment is deleted (and an unlike, an unfollow).
        Index("ix_notifications_actor_id", "actor_id"),
        Index("ix_notifications_post_id", "post_id"),
        Index("ix_notifications_comment_id", "comment_id"),
        # The digest's look for recent notifications still to tell about: a row leaves this
        # index once mailed or read, and the look reads only the last day of it.
        Index(
            "ix_notifications_to_mail",
            "created_at",
            "recipient_id",
            sqlite_where=TO_MAIL,
            postgresql_where=TO_MAIL,
        ),
        CheckConstraint("kind IN ('comment', 'follow', 'like')", name="kind"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    recipient_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    actor_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    post_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("posts.id", ondelete="CASCADE"), default=None
    )
    comment_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("comments.id", ondelete="CASCADE"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Told about in a digest mail (fastblog.notifications.digest): never mailed twice.
    mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class NotificationDigest(Base):
    """One digest mail per user and hour: the key that makes a second one (another process,
    a retry) impossible, written in the transaction that queues the mail."""

    __tablename__ = "notification_digests"

    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
