"""What models are made of: the declarative base, its naming convention, id and time types."""

from datetime import UTC, datetime

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
