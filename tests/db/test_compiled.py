"""The compiled road returns what the ORM returns, on SQLite and PostgreSQL alike."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import bindparam, func, insert, literal_column, select, text, type_coerce
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from fastblog.db import ConstraintViolationError, UTCDateTime
from fastblog.posts import queries
from fastblog.posts.markdown import render
from fastblog.posts.models import Post
from fastblog.posts.service import new_post_values
from fastblog.resources import Resources
from tests.factories import StatementCounter, make_posts, make_user

pytestmark = pytest.mark.anyio


async def test_a_post_read_on_the_compiled_road_equals_the_orm_object(
    resources: Resources, session: AsyncSession
) -> None:
    author = await make_user(session, username="ada")
    post = Post(title="Über", content="line one\nline two", user_id=author.id)
    session.add(post)
    await session.commit()

    row = await resources.database.fetch_one(queries.ONE, {"post_id": post.id})

    assert row is not None
    session.expunge_all()  # read back from the database, not the identity map
    loaded = await session.get(Post, post.id)
    assert loaded is not None
    assert row["id"] == loaded.id
    assert row["title"] == loaded.title == "Über"
    assert row["content"] == loaded.content
    assert row["user_id"] == loaded.user_id == author.id
    assert row["date_posted"] == loaded.date_posted
    assert row["date_posted"].tzinfo is not None  # aware, as the ORM's UTCDateTime gives
    assert row["author_username"] == "ada"


async def test_rows_are_keyed_by_column_name(resources: Resources, session: AsyncSession) -> None:
    await make_user(session, username="grace", email="grace@example.com")
    statement = select(User.email, User.username.label("name")).where(
        User.username == bindparam("username")
    )

    rows = await resources.database.fetch(statement, {"username": "grace"})

    assert rows == [{"email": "grace@example.com", "name": "grace"}]


async def test_insert_returning_converts_values_like_the_orm(
    resources: Resources, session: AsyncSession
) -> None:
    author = await make_user(session)
    when = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC) + timedelta(microseconds=8)

    values = new_post_values(
        title="t",
        content="c",
        rendered=render("c"),
        status="published",
        published_at=None,
        now=when,
    )
    found = await queries.fetch_author(
        resources.database, author_id=author.id, auth_version=author.auth_version
    )
    assert found is not None
    inserted = await queries.insert_post(
        resources.database,
        values=values,
        author_id=author.id,
        auth_version=author.auth_version,
        author=found,
    )

    assert inserted is not None
    assert inserted["date_posted"] == when
    session.expunge_all()
    stored = await session.get(Post, inserted["id"])
    assert stored is not None
    assert stored.date_posted == when


async def test_a_broken_constraint_is_its_own_error(resources: Resources) -> None:
    orphan = insert(Post).values(
        title="t", content="c", user_id=bindparam("user_id"), date_posted=bindparam("at")
    )

    with pytest.raises(ConstraintViolationError):
        await resources.database.write(orphan, {"user_id": 999_999, "at": datetime.now(UTC)})


async def test_a_moment_the_database_wrote_itself_reads_back_in_utc(resources: Resources) -> None:
    # SQLite's clock writes text to the second, without an offset (as triggers and defaults
    # do); PostgreSQL's, a timestamptz.
    moment = type_coerce(func.current_timestamp(), UTCDateTime()).label("at")

    [row] = await resources.database.fetch(select(moment))

    assert row["at"].tzinfo is not None
    assert abs(row["at"] - datetime.now(UTC)) < timedelta(minutes=1)


def test_sqlite_text_reads_as_the_moment_it_names() -> None:
    read = UTCDateTime().result_processor(sqlite.dialect(), None)
    assert read is not None

    assert read("2026-12-07 05:33:24.123") == datetime(2026, 12, 7, 5, 33, 24, 123000, tzinfo=UTC)
    assert read("2026-12-07 05:33:24.123456").microsecond == 123456
    # Text that carries its own offset keeps it (the same moment in UTC).
    assert read("2026-12-07T06:33:24+01:00") == datetime(2026, 12, 7, 5, 33, 24, tzinfo=UTC)
    assert read("2026-12-07") == datetime(2026, 12, 7, tzinfo=UTC)
    assert read(None) is None


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_a_list_is_planned_once_for_all_its_pages(
    resources: Resources, session: AsyncSession
) -> None:
    """The compiled road keeps one (generic) plan of a statement for every value it runs
    with: PostgreSQL's own choice planned each page of a list anew (its `LIMIT $n` guessed at
    a tenth of the rows made the generic plan look dear), ~0.3 ms a request at a million
    posts (fastblog.db.compiled.REQUEST_SETTINGS)."""
    author = await make_user(session)
    await make_posts(session, author, 30)
    await session.commit()
    now = datetime.now(UTC)
    log = StatementCounter(resources.database)
    with log() as sent:
        for page in range(8):  # PostgreSQL's own choice: custom plans for at least 5 of them
            await queries.fetch_page(resources.database, now=now, limit=1 + page, skip=page)
    [statement] = set(sent)

    # Run one at a time, the statements had one pooled connection: its prepared statements.
    plans = await resources.database.fetch(
        select(
            literal_column("generic_plans").label("generic"),
            literal_column("custom_plans").label("custom"),
        )
        .select_from(text("pg_prepared_statements"))
        .where(literal_column("statement") == bindparam("statement")),
        {"statement": statement},
    )
    assert plans, "the list's statement was not prepared on this connection"
    [plan] = plans  # (other tests may have run it on this connection before)
    assert plan["custom"] == 0, plan
    assert plan["generic"] >= 8, plan
