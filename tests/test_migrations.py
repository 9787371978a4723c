"""The migrations build exactly the schema the models describe, on both backends."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anyio
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import column, func, insert, inspect, pool, select, table, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from fastblog.cli import alembic_config, upgrade_database
from fastblog.models import Base, Page, Post, PostCount
from fastblog.search.schema import is_search_index

pytestmark = [
    pytest.mark.anyio,
    # SQLite cannot reflect the expression index on lower(username), so Alembic cannot
    # compare it there and says so; index_names() below checks that it exists instead.
    pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index"),
    pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based"),
]


def _diffs(connection: Connection) -> list[Any]:
    # The search index (an FTS5 table, a PostgreSQL tsvector column) has no model.
    opts = {"compare_type": True, "include_name": lambda *args: not is_search_index(*args)}
    context = MigrationContext.configure(connection, opts=opts)
    return list(compare_metadata(context, Base.metadata))


def _tables(connection: Connection) -> set[str]:
    names = inspect(connection).get_table_names()
    return {name for name in names if not is_search_index(name, "table", {})}


def _index_names(connection: Connection) -> set[str]:
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index'")
    else:
        rows = connection.exec_driver_sql("SELECT indexname FROM pg_indexes")
    return set(rows.scalars())


@dataclass
class Schema:
    tables: set[str]
    indexes: set[str]
    diffs: list[Any]  # how the database differs from the models


async def inspect_database(url: str) -> Schema:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            return Schema(
                tables=await connection.run_sync(_tables),
                indexes=await connection.run_sync(_index_names),
                diffs=await connection.run_sync(_diffs),
            )
    finally:
        await engine.dispose()


MODEL_TABLES = {"alembic_version", *Base.metadata.tables}
MODEL_INDEXES = {index.name for table in Base.metadata.tables.values() for index in table.indexes}


def assert_matches_the_models(schema: Schema) -> None:
    assert schema.tables == MODEL_TABLES
    assert schema.diffs == []
    assert schema.indexes >= MODEL_INDEXES


async def upgrade(url: str) -> None:
    # Alembic's async env.py runs its own event loop: it gets a thread of its own.
    await anyio.to_thread.run_sync(upgrade_database, url)


async def downgrade_to_base(url: str) -> None:
    await anyio.to_thread.run_sync(command.downgrade, alembic_config(url), "base")


def test_there_is_one_head() -> None:
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()

    assert len(heads) == 1, heads


async def test_upgrade_head_builds_the_models_schema(fresh_database_url: str) -> None:
    await upgrade(fresh_database_url)

    assert_matches_the_models(await inspect_database(fresh_database_url))


async def test_downgrade_to_base_then_upgrade_again(fresh_database_url: str) -> None:
    await upgrade(fresh_database_url)

    await downgrade_to_base(fresh_database_url)
    assert (await inspect_database(fresh_database_url)).tables == {"alembic_version"}

    await upgrade(fresh_database_url)
    assert_matches_the_models(await inspect_database(fresh_database_url))


async def test_existing_posts_are_rendered_as_they_looked(fresh_database_url: str) -> None:
    """Posts written before Markdown keep their line breaks, and are published when written."""
    config = alembic_config(fresh_database_url)
    await anyio.to_thread.run_sync(command.upgrade, config, "3c8e1f0a7b42")  # before publishing
    written = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    engine = create_async_engine(fresh_database_url, poolclass=pool.NullPool)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text("INSERT INTO users (username, email, password_hash) VALUES ('a', 'a@x', 'h')")
            )
            await connection.execute(
                text(
                    "INSERT INTO posts (title, content, date_posted, user_id) "
                    "VALUES (:title, :content, :written, 1)"
                ),
                {
                    "title": "Über uns",
                    "content": "line one\nline two\n\n<b>not bold</b>",
                    "written": written
                    if "postgresql" in fresh_database_url
                    else "2026-03-03 09:00:00.000000",
                },
            )

        await upgrade(fresh_database_url)

        async with engine.connect() as connection:
            row = (
                await connection.execute(
                    select(
                        Post.slug,
                        Post.content_html,
                        Post.excerpt,
                        Post.status,
                        Post.published_at,
                        Post.updated_at,
                    )
                )
            ).one()
            counted = await connection.scalar(select(func.sum(PostCount.posts)))
    finally:
        await engine.dispose()
    assert row.slug == "uber-uns"
    assert row.content_html == "<p>line one<br>\nline two</p>\n<p>&lt;b&gt;not bold&lt;/b&gt;</p>\n"
    assert row.excerpt == "line one line two"
    assert (row.status, row.published_at, row.updated_at) == ("published", written, written)
    assert counted == 1


POST_COLUMNS = (
    *("title", "content", "content_html", "excerpt", "slug", "status", "user_id"),
    *("date_posted", "published_at", "updated_at"),
)


async def test_stored_headings_are_renumbered_to_start_at_h2(fresh_database_url: str) -> None:
    """A post and a page written with `##` were stored as <h3>: after 0016 they read <h2>,
    and a post without a heading is left as it was."""
    config = alembic_config(fresh_database_url)
    await anyio.to_thread.run_sync(command.upgrade, config, "7c3b9d15e6a2")  # before 0016
    old = "<h3>Start</h3>\n<p>Words.</p>\n<h5>Deeper</h5>\n"
    plain = "<p>line one<br>\nline two</p>\n"
    engine = create_async_engine(fresh_database_url, poolclass=pool.NullPool)
    try:
        async with engine.begin() as connection:
            # Users and posts as 0015 left them, the columns it knew: the models have more since.
            users = table("users", *map(column, ("username", "email", "password_hash")))
            posts = table(
                "posts", *(column(name, Post.__table__.c[name].type) for name in POST_COLUMNS)
            )
            await connection.execute(
                insert(users), [{"username": "a", "email": "a@x", "password_hash": "h"}]
            )
            when = datetime(2026, 1, 1, tzinfo=UTC)
            await connection.execute(
                insert(posts),
                [
                    {
                        "title": title,
                        "content": "",
                        "content_html": html,
                        "excerpt": "",
                        "slug": "s",
                        "status": "published",
                        "user_id": 1,
                        "date_posted": when,
                        "published_at": when,
                        "updated_at": when,
                    }
                    for title, html in (("Old", old), ("Plain", plain))
                ],
            )
            await connection.execute(
                insert(Page),
                [{"slug": "about", "title": "About", "content": "", "content_html": old}],
            )

        await upgrade(fresh_database_url)

        async with engine.connect() as connection:
            posts = dict((await connection.execute(select(Post.title, Post.content_html))).all())
            page = await connection.scalar(select(Page.content_html))
    finally:
        await engine.dispose()
    new = "<h2>Start</h2>\n<p>Words.</p>\n<h3>Deeper</h3>\n"
    assert posts == {"Old": new, "Plain": plain}
    assert page == new
