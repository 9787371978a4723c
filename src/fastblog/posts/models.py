from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fastblog.accounts.models import User
from fastblog.db import Base, BigId, UTCDateTime, utcnow


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (
        # Newest-first listing: ORDER BY date_posted DESC, id DESC walks this index.
        Index("ix_posts_date_posted_id", "date_posted", "id"),
        # A user's posts, newest first; also serves the foreign key's lookups.
        Index("ix_posts_user_id_date_posted_id", "user_id", "date_posted", "id"),
        # Ids only grow on SQLite too: a link to a deleted post never shows another one.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    content: Mapped[str] = mapped_column(Text)
    # Named date_posted (not *_at) to keep the course's API field name.
    date_posted: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))

    # lazy="raise": reading post.author without eager loading fails loudly in tests instead
    # of attempting hidden I/O (MissingGreenlet in async code).
    author: Mapped[User] = relationship(lazy="raise")


class PostCount(Base):
    """How many posts there are, kept by database triggers (migration 0004), so a page of
    posts does not count the whole table on every request (on PostgreSQL that count was
    ~1 ms of server CPU per page). Spread over a few slots (post id modulo COUNT_SLOTS) so
    concurrent inserts do not queue on one row; the total is the sum of the slots."""

    __tablename__ = "post_counts"

    slot: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    posts: Mapped[int] = mapped_column(BigInteger)


COUNT_SLOTS = 8
