"""The installed `fastblog` command, run as a newcomer would, on a database of its own."""

import subprocess
from pathlib import Path

import anyio
import pytest
from sqlalchemy import inspect, pool, select
from sqlalchemy.ext.asyncio import create_async_engine

from fastblog.models import Base, Post, User
from fastblog.search.schema import is_search_index
from tests.conftest import make_settings
from tests.processes import FASTBLOG, count_rows, fastblog_env, fastblog_in_process

pytestmark = pytest.mark.anyio


async def fastblog(database_url: str, cwd: Path, *args: str) -> str:
    """Run `fastblog *args` and return what it printed; a failure shows its stderr."""
    result = await anyio.run_process(
        [FASTBLOG, *args], env=fastblog_env(database_url), cwd=cwd, check=False
    )
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode()


async def table_names(database_url: str) -> set[str]:
    """The tables the models describe (the search index's are checked in tests/search)."""
    engine = create_async_engine(database_url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    finally:
        await engine.dispose()
    return {name for name in names if not is_search_index(name, "table", {})}


async def test_db_upgrade_creates_the_schema_on_a_clean_database(
    fresh_database_url: str, tmp_path: Path
) -> None:
    await fastblog(fresh_database_url, tmp_path, "db", "upgrade")

    assert await table_names(fresh_database_url) == {"alembic_version", *Base.metadata.tables}
    assert await count_rows(fresh_database_url) == (0, 0)

    # Again, through the command's `main` in this process: nothing to do.
    settings = make_settings(fresh_database_url, tmp_path / "media")
    assert await fastblog_in_process(settings, "db", "upgrade") == (0, "", "")
    assert await table_names(fresh_database_url) == {"alembic_version", *Base.metadata.tables}


async def test_seed_fills_exactly_what_was_asked(
    migrated_database_url: str, tmp_path: Path
) -> None:
    output = await fastblog(
        migrated_database_url, tmp_path, "seed", "--users", "3", "--posts", "50"
    )

    assert output.startswith("Seeded 3 users and 50 posts in ")
    assert await count_rows(migrated_database_url) == (3, 50)
    engine = create_async_engine(migrated_database_url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            user_ids = set((await connection.scalars(select(User.id))).all())
            authors = set((await connection.scalars(select(Post.user_id).distinct())).all())
            dates = (await connection.scalars(select(Post.date_posted))).all()
    finally:
        await engine.dispose()
    assert authors <= user_ids
    assert len(authors) > 1, "the posts are spread among the users"
    assert len(set(dates)) == 50

    # Seeding again adds to what is there, with new usernames: through the command's `main`
    # in this process (tests.processes.fastblog_in_process), the first run was the command's.
    settings = make_settings(migrated_database_url, tmp_path / "media")
    status, again, err = await fastblog_in_process(
        settings, "seed", "--users", "2", "--posts", "10"
    )
    assert status == 0, err  # stderr: the progress bar
    assert again.startswith("Seeded 2 users and 10 posts in ")
    assert await count_rows(migrated_database_url) == (5, 60)


async def test_an_unknown_command_is_refused_with_usage(tmp_path: Path) -> None:
    result = await anyio.run_process(
        [FASTBLOG, "frobnicate"], cwd=tmp_path, check=False, stderr=subprocess.PIPE
    )

    assert result.returncode == 2
    assert b"usage: fastblog" in result.stderr


# Two: one migrates while the other waits for the lock (SQLite's file lock, PostgreSQL's
# advisory lock), then finds nothing to do, the path a third or fourth host takes too. Each
# is a Python process importing alembic and the models (~1.5 CPU-s); four were 6.5 CPU-s.
UPGRADING_HOSTS = 2


async def test_hosts_upgrading_at_the_same_moment_end_with_one_schema(
    fresh_database_url: str, tmp_path: Path
) -> None:
    """Every host runs `fastblog db upgrade` as it starts; two start together on an empty
    database: both succeed, and the schema is the models' (no duplicate or failed DDL)."""
    outputs: list[str] = []

    async def upgrade() -> None:
        outputs.append(await fastblog(fresh_database_url, tmp_path, "db", "upgrade"))

    async with anyio.create_task_group() as hosts:
        for _ in range(UPGRADING_HOSTS):
            hosts.start_soon(upgrade)

    assert len(outputs) == UPGRADING_HOSTS
    assert {table.name for table in Base.metadata.sorted_tables} <= await table_names(
        fresh_database_url
    )
    assert await alembic_versions(fresh_database_url) == 1


async def alembic_versions(database_url: str) -> int:
    engine = create_async_engine(database_url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            rows = await connection.exec_driver_sql("SELECT count(*) FROM alembic_version")
            return int(rows.scalar_one())
    finally:
        await engine.dispose()
