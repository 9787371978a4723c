"""What models are made of: the declarative base, its naming convention, id and time types."""

from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, MetaData
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# 64-bit ids on PostgreSQL; on SQLite an INTEGER PRIMARY KEY is already 64-bit and is
# the rowid alias that autoincrements, which BIGINT would not be.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    PostgreSQL keeps the offset itself; SQLite stores text without one, so values
    are normalised to UTC on the way in and marked as UTC on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass a timezone-aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        # SQLite's text is parsed straight to a UTC datetime, instead of SQLAlchemy's parser
        # (fromisoformat) and then process_result_value. replace(tzinfo=UTC) alone costs
        # ~10,000 instructions, a parse with the offset ~2,000; a list of 20 posts reads 60
        # dates. TypeDecorator lets a type provide its result processor itself.
        if dialect.name == "sqlite":
            return _utc_from_sqlite
        return super().result_processor(dialect, coltype)


# Parsed dates are remembered by their text, at most this many (~1.5 MB). Readers are shown the
# same newest posts and comments over and over, and a page's cards are remembered under their
# rows' values (fastblog.web.templating.card): a datetime made afresh computes its hash there
# again (~4,000 instructions with a time zone, 30 dates a home page) and compares field by field,
# a remembered one has its hash already and compares by identity. A parse costs ~2,000.
SQLITE_DATES_KEPT = 8192


@lru_cache(maxsize=SQLITE_DATES_KEPT)
def _utc_from_sqlite(value: str | None) -> datetime | None:
    """A moment as SQLite holds it (SQLAlchemy's storage format, "2026-12-07 05:33:24.123456",
    or CURRENT_TIMESTAMP's, to the second: UTC without an offset), timezone-aware."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value + "+00:00")
    except ValueError:  # text with an offset of its own
        parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)  # a bare date


def utcnow() -> datetime:
    return datetime.now(UTC)


# Row locks for what a write transaction loads and then changes or relies on. On PostgreSQL,
# without them a row deleted by a concurrent transaction after our SELECT makes our UPDATE
# match nothing (StaleDataError: a 500) or our single-use token usable twice; with them, the
# other transaction waits, or we see the row gone (a clean 404). SQLite's BEGIN IMMEDIATE
# already runs writers one at a time, and SQLAlchemy renders no FOR UPDATE there.
RowLock = bool | dict[str, bool] | None  # SQLAlchemy's with_for_update argument
FOR_UPDATE: RowLock = True  # SELECT ... FOR UPDATE: we will change the row
FOR_KEY_SHARE: RowLock = {"read": True, "key_share": True}  # it must not vanish: rows point to it
