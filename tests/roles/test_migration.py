"""Migration 0013 on a database from before roles: the oldest account becomes the owner, a
moderator an editor, everyone else an author; downgrading gives moderators back."""

import anyio
import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import pool, text
from sqlalchemy.ext.asyncio import create_async_engine

from fastblog.cli import alembic_config
from tests.test_migrations import upgrade

pytestmark = pytest.mark.anyio

BEFORE_ROLES = "5a2866d33f34"  # likes and follows (0011)
ROLES = "3f6b1d2a9c47"


async def _rows(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.begin() as connection:
            return [tuple(row) for row in (await connection.execute(text(sql))).all()]
    finally:
        await engine.dispose()


async def test_moderators_become_editors_and_the_oldest_account_the_owner(
    fresh_database_url: str,
) -> None:
    config = alembic_config(fresh_database_url)
    await anyio.to_thread.run_sync(command.upgrade, config, BEFORE_ROLES)
    engine = create_async_engine(fresh_database_url, poolclass=pool.NullPool)
    try:
        async with engine.begin() as connection:
            for name, moderator in (("first", False), ("mod", True), ("third", False)):
                await connection.execute(
                    text(
                        "INSERT INTO users (username, email, password_hash, is_moderator) "
                        "VALUES (:name, :email, 'h', :moderator)"
                    ),
                    {"name": name, "email": f"{name}@example.com", "moderator": moderator},
                )
    finally:
        await engine.dispose()

    await upgrade(fresh_database_url)

    assert await _rows(fresh_database_url, "SELECT username, role FROM users ORDER BY id") == [
        ("first", "owner"),
        ("mod", "editor"),
        ("third", "author"),
    ]

    await anyio.to_thread.run_sync(command.downgrade, config, BEFORE_ROLES)
    moderators = await _rows(
        fresh_database_url, "SELECT username FROM users WHERE is_moderator ORDER BY id"
    )
    assert moderators == [("first",), ("mod",)]  # the owner moderated too


async def test_an_empty_database_upgrades(fresh_database_url: str) -> None:
    config = alembic_config(fresh_database_url)
    await anyio.to_thread.run_sync(command.upgrade, config, BEFORE_ROLES)

    await upgrade(fresh_database_url)

    assert await _rows(fresh_database_url, "SELECT count(*) FROM users") == [(0,)]
    head = ScriptDirectory.from_config(config).get_current_head()
    assert await _rows(fresh_database_url, "SELECT version_num FROM alembic_version") == [(head,)]
