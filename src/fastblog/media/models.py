from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fastblog.db import Base, BigId, UTCDateTime, utcnow
from fastblog.site.models import JSONText


class Media(Base):
    """An uploaded picture for posts: its variants' content-hashed keys in the media store.

    `key` is the largest variant in the original's format, the one the picture's URL names
    (/media/<key>); a post's Markdown is searched for these URLs when it is rendered."""

    __tablename__ = "media"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # Kept when the account goes: a published post of theirs may still show the picture.
    owner_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    key: Mapped[str] = mapped_column(String(200), unique=True)
    alt: Mapped[str] = mapped_column(String(500), default="")
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    # [{"key": "pictures/<hash>.webp", "width": 480, "height": 320, "type": "image/webp"}, ...]
    variants: Mapped[list[dict[str, Any]]] = mapped_column(JSONText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
