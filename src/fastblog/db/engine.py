"""Engines: SQLAlchemy's async engine for sessions, its SQLite tuning, and the checks
that tell a broken database from a bug."""

import logging
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from fastblog.config import Settings
from fastblog.db.compiled import DatabaseUnavailableError
from fastblog.db.postgres_tls import plain_tcp_is_enough
from fastblog.db.sqlite_threads import tuning_pragmas

logger = logging.getLogger(__name__)


def create_engine(settings: Settings) -> AsyncEngine:
    connect_args: dict[str, Any] = {}
    if settings.is_sqlite:
        # The Python-side lock wait; the PRAGMA below sets SQLite's own busy handler.
        connect_args["timeout"] = settings.sqlite_busy_timeout_ms / 1000
    else:
        connect_args["command_timeout"] = settings.db_timeout_seconds
        connect_args["timeout"] = settings.db_timeout_seconds
        if plain_tcp_is_enough(settings.database_url):
            connect_args["ssl"] = False  # fastblog.db.postgres_tls says why
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
    except OSError as exc:
        raise DatabaseNotWritableError(
            f"SQLite database {path} is not writable: cannot write in {folder} "
            f"({exc.strerror or exc})"
        ) from exc
    if path.exists():
        _check_sqlite_file_writable(path)


def use_wal_journal(database_url: str, busy_timeout_ms: int) -> None:
    """Put an existing SQLite file in WAL mode once, here, before the app opens its connections.

    Every connection asks for WAL (`tuning_pragmas`), a no-op on a file already in WAL. The
    switch itself needs the file to itself, and SQLite refuses it at once, without waiting
    on busy_timeout, while another connection holds the write lock: a new app's threads
    opening a file in rollback mode together then failed their first statements ("database
    is locked"), and the app started on the environment's site settings. Migrations leave
    files in WAL; this covers files made before they did, or by hand. Retried, bounded by
    busy_timeout; blocking, at start-up, before the app serves (as the check above).
    """
    database = make_url(database_url).database
    if not database or database == ":memory:" or not Path(database).is_file():
        return
    deadline = time.monotonic() + busy_timeout_ms / 1000
    pause = 0.005
    connection = sqlite3.connect(database, isolation_level=None, timeout=busy_timeout_ms / 1000)
    try:
        while True:
            try:
                connection.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.Error as exc:  # busy; or not a database, damaged, unreadable
                busy = getattr(exc, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_BUSY
                if not busy or time.monotonic() > deadline:
                    return  # the app's own connections report it, as for any broken file
                time.sleep(pause)
                pause = min(pause * 2, 0.1)
    finally:
        connection.close()


REFUSED_WRITES = frozenset({sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM})


def _check_sqlite_file_writable(path: Path) -> None:
    """Take SQLite's write lock on the file and let it go, writing nothing.

    Through SQLite, never a plain open() and close(): closing any descriptor of a file drops
    every POSIX lock this process holds on it, SQLite's own included. Another app in this
    process would lose its locks, and another process's last connection would then delete
    the WAL that this one still writes to (https://www.sqlite.org/howtocorrupt.html, 2.2).
    """
    # A blocking call at start-up, before the app serves: the event loop has nothing to do.
    connection = sqlite3.connect(path, isolation_level=None, timeout=1.0)
    try:
        connection.execute("BEGIN IMMEDIATE")
        # A write, rolled back below: some read-only files still grant the lock.
        (version,) = connection.execute("PRAGMA user_version").fetchone()
        connection.execute(f"PRAGMA user_version = {int(version)}")
    except sqlite3.Error as exc:
        # Only a refusal to write stops the start. A busy file is writable; a file that is not
        # a database (or is damaged) starts the app, which answers 503 and says so on /ready.
        if getattr(exc, "sqlite_errorcode", 0) & 0xFF not in REFUSED_WRITES:
            return
        raise DatabaseNotWritableError(
            f"SQLite database {path} is not writable: cannot write in {path} ({exc})"
        ) from exc
    finally:
        if connection.in_transaction:
            connection.rollback()
        connection.close()


def is_database_unavailable(exc: BaseException) -> bool:
    """Connection refused, lost or timed out, pool exhausted, disk trouble: not a bug to fix
    in code, but a state the client should retry after. A connection asyncpg lost while it was
    still being made ("connection was closed in the middle of operation") reaches us as
    SQLAlchemy's plain DBAPIError: there is no connection yet to call invalidated."""
    if isinstance(exc, sa_exc.DBAPIError):
        return (
            exc.connection_invalidated
            or isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError)
            or isinstance(getattr(exc.orig, "__cause__", None), asyncpg.PostgresConnectionError)
        )
    return isinstance(
        exc, DatabaseUnavailableError | sa_exc.TimeoutError | ConnectionError | TimeoutError
    )
