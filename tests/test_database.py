from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, InvalidRequestError, StatementError
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.db.engine import create_engine
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
