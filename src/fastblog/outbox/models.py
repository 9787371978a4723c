from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fastblog.db import Base, BigId, UTCDateTime, utcnow


class OutboxMail(Base):
    """A mail waiting to be sent; deleted once sent.

    The body is stored as it will be sent. A reset mail's body holds the reset link, so this
    row is a secret while it waits (more so than the token's row, which keeps only a hash):
    it lives only until the mail is sent or given up on, when the body is erased. Logs name
    a mail by its id, never by its content.
    """

    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # A multipart mail's HTML part (a newsletter's), beside the plain-text body.
    html: Mapped[str | None] = mapped_column(Text, default=None)
    # More headers, as a JSON object (List-Id, List-Unsubscribe, Message-ID, ...).
    headers: Mapped[str | None] = mapped_column(Text, default=None)
    # What the mail belongs to ("newsletter:12" for post 12's), so that what it belongs to
    # can take back the mails not sent yet (a post unpublished, a reader who leaves).
    topic: Mapped[str | None] = mapped_column(String(50), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Not sent before this (now, or later after a failed attempt).
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set by the process sending it; another process may take the mail once it has passed.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(String(500), default=None)
    # Not worth sending after this (a reset link that has expired).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Given up on (out of attempts, or expired): kept for the operator, body erased.
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


# What every sender asks, every few seconds: the mails still to send, by when they are due.
Index(
    "ix_mail_outbox_pending",
    OutboxMail.due_at,
    sqlite_where=OutboxMail.failed_at.is_(None),
    postgresql_where=OutboxMail.failed_at.is_(None),
)

# A topic's mails, by recipient: taking back a post's mails, or a subscriber's.
Index(
    "ix_mail_outbox_topic",
    OutboxMail.topic,
    OutboxMail.recipient,
    sqlite_where=OutboxMail.topic.is_not(None),
    postgresql_where=OutboxMail.topic.is_not(None),
)
