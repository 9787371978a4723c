import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, InvalidRequestError, StatementError
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.cli import upgrade_database
from fastblog.db import Database
from fastblog.db.engine import create_engine, use_wal_journal
from fastblog.posts.models import Post
from tests.conftest import make_settings
from tests.factories import make_posts, make_user

pytestmark = pytest.mark.anyio


async def test_sqlite_connections_are_tuned(sqlite_url: str, tmp_path: Path) -> None:
    engine = create_engine(make_settings(sqlite_url, tmp_path))
    try:
        async with engine.connect() as connection:
            pragmas = {
                name: await connection.scalar(text(f"PRAGMA {name}"))
                for name in ("journal_mode", "foreign_keys", "synchronous", "busy_timeout")
            }
    finally:
        await engine.dispose()

    assert pragmas["journal_mode"] == "wal"
    assert pragmas["foreign_keys"] == 1
    assert pragmas["synchronous"] == 1  # NORMAL
    assert pragmas["busy_timeout"] > 0


async def test_an_accidental_lazy_load_fails_loudly(session: AsyncSession) -> None:
    author = await make_user(session)
    await make_posts(session, author, 1)
    session.expunge_all()
    loaded = (await session.scalars(select(Post))).first()

    with pytest.raises(InvalidRequestError, match="lazy='raise'"):
        _ = loaded.author  # type: ignore[union-attr]


async def test_dates_come_back_in_utc_whatever_zone_they_were_written_in(
    session: AsyncSession,
) -> None:
    author = await make_user(session)
    paris = timezone(timedelta(hours=1))
    post = Post(
        title="t",
        content="c",
        user_id=author.id,
        date_posted=datetime(2026, 3, 4, 0, 30, tzinfo=paris),
    )
    session.add(post)
    await session.commit()
    session.expunge_all()

    stored = await session.scalar(select(Post.date_posted).where(Post.id == post.id))

    assert stored == datetime(2026, 3, 3, 23, 30, tzinfo=UTC)
    assert stored is not None
    assert stored.utcoffset() == timedelta(0)


async def test_a_naive_date_is_refused(session: AsyncSession) -> None:
    author = await make_user(session)
    session.add(Post(title="t", content="c", user_id=author.id, date_posted=datetime(2026, 3, 3)))

    with pytest.raises(StatementError, match="naive datetimes are ambiguous"):
        await session.commit()


async def test_the_database_refuses_a_username_that_differs_only_in_case(
    session: AsyncSession,
) -> None:
    await make_user(session, username="corey")

    with pytest.raises(IntegrityError):
        await make_user(session, username="COREY")


def journal_mode(path: Path) -> str:
    connection = sqlite3.connect(path)
    try:
        return str(connection.execute("PRAGMA journal_mode").fetchone()[0])
    finally:
        connection.close()


def test_a_migrated_sqlite_file_is_left_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "blog.db"
    upgrade_database(f"sqlite+aiosqlite:///{path}")
    assert journal_mode(path) == "wal"


def rollback_mode_file(path: Path) -> Path:
    setup = sqlite3.connect(path, isolation_level=None)
    setup.execute("CREATE TABLE notes (body TEXT)")
    setup.close()
    assert journal_mode(path) == "delete"
    return path


async def test_an_app_opening_a_file_in_rollback_mode_puts_it_in_wal(tmp_path: Path) -> None:
    path = rollback_mode_file(tmp_path / "old.db")
    database = Database.open(make_settings(f"sqlite+aiosqlite:///{path}", tmp_path))
    try:
        assert journal_mode(path) == "wal"
    finally:
        await database.close()


def test_the_switch_to_wal_waits_for_another_process_writing(tmp_path: Path) -> None:
    # SQLite refuses the switch at once, busy_timeout or not, while another connection holds
    # the write lock: an app's connections racing to switch then failed at start-up.
    path = rollback_mode_file(tmp_path / "old.db")
    holding = threading.Event()

    def write_for_a_moment() -> None:
        writer = sqlite3.connect(path, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT INTO notes VALUES ('kept')")
        holding.set()
        time.sleep(0.3)
        writer.execute("COMMIT")
        writer.close()

    other_process = threading.Thread(target=write_for_a_moment)
    other_process.start()
    holding.wait()
    try:
        use_wal_journal(f"sqlite+aiosqlite:///{path}", busy_timeout_ms=5_000)
    finally:
        other_process.join()
    assert journal_mode(path) == "wal"
    check = sqlite3.connect(path)
    assert check.execute("SELECT body FROM notes").fetchall() == [("kept",)]
    check.close()
