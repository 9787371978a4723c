"""Engine, sessions and the declarative base; nothing here runs at import time."""

import logging
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from sqlalchemy import BigInteger, DateTime, Integer, MetaData, event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator
from starlette.datastructures import State

from fastblog.config import Settings
from fastblog.direct import DatabaseUnavailableError
from fastblog.direct_sqlite import tuning_pragmas

logger = logging.getLogger(__name__)

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


def create_engine(settings: Settings) -> AsyncEngine:
    connect_args: dict[str, Any] = {}
    if settings.is_sqlite:
        # The Python-side lock wait; the PRAGMA below sets SQLite's own busy handler.
        connect_args["timeout"] = settings.sqlite_busy_timeout_ms / 1000
    else:
        connect_args["command_timeout"] = settings.db_timeout_seconds
        connect_args["timeout"] = settings.db_timeout_seconds
    engine = create_async_engine(
        settings.database_url,
        echo=settings.echo_sql,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_timeout_seconds,
        # A connection killed by a database restart is detected and replaced.
        pool_pre_ping=not settings.is_sqlite,
        connect_args=connect_args,
    )
    if settings.is_sqlite:
        _tune_sqlite(engine, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    return engine


def _tune_sqlite(engine: AsyncEngine, *, busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        for pragma in tuning_pragmas(busy_timeout_ms):
            cursor.execute(pragma)
        cursor.close()


class DatabaseNotWritableError(RuntimeError):
    pass


def check_sqlite_writable(database_url: str) -> None:
    """Refuse to start on a SQLite file we could not write, rather than fail every write later.

    SQLite needs the folder too: WAL mode creates -wal and -shm files beside the database.
    Both are tried for real (permissions say nothing to root, nor about a read-only mount).
    """
    database = make_url(database_url).database
    if not database or database == ":memory:":
        return
    path = Path(database).resolve()
    folder = path.parent
    if not folder.is_dir():
        raise DatabaseNotWritableError(f"SQLite folder {folder} does not exist")
    if path.exists() and not path.is_file():
        raise DatabaseNotWritableError(f"SQLite database {path} is not a file")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass  # SQLite will create its -wal and -shm files here
        if path.exists():
            with path.open("r+b"):
                pass  # opened for writing, nothing written
    except OSError as exc:
        target = path if path.exists() and exc.filename == str(path) else folder
        raise DatabaseNotWritableError(
            f"SQLite database {path} is not writable: cannot write in {target} "
            f"({exc.strerror or exc})"
        ) from exc


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: objects stay readable after commit without a hidden
    # refresh, which in async code would be an implicit (and forbidden) await.
    return async_sessionmaker(engine, expire_on_commit=False)


async def begin_write(session: AsyncSession) -> None:
    """Take SQLite's write lock before the first read of a write transaction.

    SQLite's default deferred transaction reads from a snapshot and fails at once
    with "database is locked" if it later tries to write after another writer has
    committed; busy_timeout cannot help there. BEGIN IMMEDIATE waits for the lock
    up front instead. PostgreSQL needs nothing of the kind.
    """
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(text("BEGIN IMMEDIATE"))


# Row locks for what a write transaction loads and then changes or relies on. On PostgreSQL,
# without them a row deleted by a concurrent transaction after our SELECT makes our UPDATE
# match nothing (StaleDataError: a 500) or our single-use token usable twice; with them, the
# other transaction waits, or we see the row gone (a clean 404). SQLite's BEGIN IMMEDIATE
# already runs writers one at a time, and SQLAlchemy renders no FOR UPDATE there.
RowLock = bool | dict[str, bool] | None  # SQLAlchemy's with_for_update argument
FOR_UPDATE: RowLock = True  # SELECT ... FOR UPDATE: we will change the row
FOR_KEY_SHARE: RowLock = {"read": True, "key_share": True}  # it must not vanish: rows point to it


def is_database_unavailable(exc: BaseException) -> bool:
    """Connection refused, lost or timed out, pool exhausted, disk trouble: not a bug to fix
    in code, but a state the client should retry after."""
    if isinstance(exc, sa_exc.DBAPIError):
        return exc.connection_invalidated or isinstance(
            exc, sa_exc.OperationalError | sa_exc.InterfaceError
        )
    return isinstance(
        exc, DatabaseUnavailableError | sa_exc.TimeoutError | ConnectionError | TimeoutError
    )


@asynccontextmanager
async def open_session(state: State) -> AsyncIterator[AsyncSession]:
    """A session that is closed even when its connection died under it.

    Closing rolls back; on a connection the database or the network cut, that rollback
    fails. The transaction went with the connection and the pool discards it, so the
    failure is only noted: raised, it would replace the request's own error (answered
    with a 503) or, after the response has started, crash the request in the server log.
    """
    session = state.sessionmaker()
    try:
        yield session
    finally:
        try:
            await session.close()
        except Exception as exc:
            if not is_database_unavailable(exc):
                raise
            logger.warning("Discarded a broken database connection: %s", exc.__class__.__name__)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with open_session(request.app.state) as session:
        yield session


@asynccontextmanager
async def write_session(state: State) -> AsyncIterator[AsyncSession]:
    """A session for a write transaction.

    On SQLite, writers of this process queue on an asyncio lock before they ask
    SQLite for its single write lock: they then wait on the event loop rather
    than in a driver thread polling the busy handler. Other processes are kept
    in order by busy_timeout. Do slow work (password hashing) before entering.
    """
    async with state.write_lock, open_session(state) as session:
        await begin_write(session)
        yield session


async def get_write_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with write_session(request.app.state) as session:
        yield session
