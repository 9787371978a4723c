from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from fastblog.db import Base, BigId, UTCDateTime, utcnow


class Subscription(Base):
    """An address that asked for the site's posts (author_id NULL) or one author's. Nothing is
    mailed to it but its confirmation until `confirmed_at`; unconfirmed ones are forgotten
    after UNCONFIRMED_DAYS. Leaving deletes the row: the address is not kept."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        # One subscription per address and scope; NULLs are distinct in a unique constraint,
        # hence a partial index for the site-wide scope.
        Index(
            "uq_subscriptions_site_email",
            "email",
            unique=True,
            sqlite_where=text("author_id IS NULL"),
            postgresql_where=text("author_id IS NULL"),
        ),
        Index(
            "uq_subscriptions_author_email",
            "author_id",
            "email",
            unique=True,
            sqlite_where=text("author_id IS NOT NULL"),
            postgresql_where=text("author_id IS NOT NULL"),
        ),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    author_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), default=None
    )
    # In the confirmation link and in every mail's unsubscribe link: whoever holds it may
    # confirm or end this subscription, nothing else.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class NewsletterIssue(Base):
    """A post being mailed: made when the post is announced (once per post), walked through
    the subscribers in id order (`cursor`) in batches, each batch queued in one transaction."""

    __tablename__ = "newsletter_issues"

    post_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    author_id: Mapped[int] = mapped_column(BigId)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The last subscription id queued; the next batch starts after it.
    cursor: Mapped[int] = mapped_column(BigId, default=0, server_default="0")
    # How many mails are queued so far: the next one is due at its turn under the rate.
    queued: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Every subscriber has been queued, or the post was taken back (`stopped_at`).
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


Index(
    "ix_newsletter_issues_open",
    NewsletterIssue.created_at,
    sqlite_where=NewsletterIssue.done_at.is_(None),
    postgresql_where=NewsletterIssue.done_at.is_(None),
)


class NewsletterDelivery(Base):
    """The key that makes a post's mail to an address exist once: written with the mail, in
    one transaction, and never again for that (post, address), whatever crashes, retries or
    second hosts do. An address subscribed to the site and to the author gets one mail."""

    __tablename__ = "newsletter_deliveries"

    post_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
