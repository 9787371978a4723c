from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from fastblog.db import Base, BigId, UTCDateTime, utcnow

APPROVED = "approved"
# Waiting for an editor: shown to its writer and to editors only, counted nowhere.
PENDING = "pending"


class Comment(Base):
    """A reader's comment on a post. Creating, approving or deleting an approved one moves
    `posts.comments` by one, through triggers (migrations 0010 and 0014), in the same
    transaction."""

    __tablename__ = "comments"
    __table_args__ = (
        # A post's comments, oldest first, a page at a time: (created_at, id) after a cursor.
        Index("ix_comments_post_id_created_at_id", "post_id", "created_at", "id"),
        # A user's comments, for the cascade when the account is deleted, and "has one of
        # theirs been approved?" (approve_first).
        Index("ix_comments_user_id", "user_id"),
        # The moderation queue, oldest first: only the (few) waiting comments are indexed.
        Index(
            "ix_comments_pending_created_at_id",
            "created_at",
            "id",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    post_id: Mapped[int] = mapped_column(BigId, ForeignKey("posts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    # The Markdown-lite source as written (trimmed), and it rendered and sanitized, once.
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # APPROVED or PENDING (the site's comment policy decides, fastblog.comments.policy).
    status: Mapped[str] = mapped_column(String(10), default=APPROVED, server_default=APPROVED)
