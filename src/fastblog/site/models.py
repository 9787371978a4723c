import json
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Integer, String, Text, true
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from fastblog.db import Base, BigId, UTCDateTime, utcnow


class JSONText(TypeDecorator[Any]):
    """JSON kept as text: the same on both databases and on both roads of fastblog.db (the
    compiled road's asyncpg connections have no JSON codec of their own)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else json.dumps(value, ensure_ascii=False)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else json.loads(value)


class SiteSettingsRow(Base):
    """The site's settings: one row (id 1), one typed column per setting.

    One row rather than key/value pairs: every page reads all of them at once (one row, one
    statement), the database checks each column's type, and a change of several settings is
    one UPDATE, seen whole or not at all by the other processes."""

    __tablename__ = "site_settings"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(300))
    # [{"label": "About", "url": "/about"}, ...]
    navigation: Mapped[list[dict[str, Any]]] = mapped_column(JSONText)
    footer: Mapped[str] = mapped_column(String(500))
    registration: Mapped[str] = mapped_column(String(12))
    new_account_role: Mapped[str] = mapped_column(String(12))
    comments: Mapped[str] = mapped_column(String(16))
    timezone: Mapped[str] = mapped_column(String(64))
    posts_per_page: Mapped[int] = mapped_column(Integer)
    # The share card's picture of pages without one of their own (a path here or https URL).
    share_image: Mapped[str] = mapped_column(String(300), default="", server_default="")
    newsletter_default: Mapped[bool] = mapped_column(Boolean, server_default=true())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Page(Base):
    """A static page (About, Contact): Markdown rendered like a post's, served at /{slug}; in
    the sitemap, never in lists or feeds."""

    __tablename__ = "pages"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(100))
    content: Mapped[str] = mapped_column(Text)
    content_html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
