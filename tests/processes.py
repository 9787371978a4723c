"""Running the installed `fastblog` command as its own process, and reading its database after."""

import os

from sqlalchemy import func, pool, select
from sqlalchemy.ext.asyncio import create_async_engine

from bench.live import FASTBLOG
from fastblog.accounts.models import User
from fastblog.posts.models import Post
from tests.factories import CHEAP_ARGON2, TEST_SECRET_KEY

__all__ = ["FASTBLOG", "count_rows", "fastblog_env"]


def clean_env(**settings: object) -> dict[str, str]:
    """The whole environment of a process a test starts: PATH, HOME and the settings given
    (as NAME=value). Nothing else of the developer's environment reaches it; start it in a
    temporary folder too, where no `.env` waits."""
    env = {name: os.environ[name] for name in ("PATH", "HOME") if name in os.environ}
    # Accounts signed up in tests write posts (as in tests.conftest.make_settings).
    env["NEW_ACCOUNT_ROLE"] = "author"
    env.update({name.upper(): str(value) for name, value in CHEAP_ARGON2.items()})
    env.update({name.upper(): str(value) for name, value in settings.items()})
    return env


def fastblog_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment for a `fastblog` process on `database_url`, signing tokens with the
    test secret so tests can mint them (tests.factories.login)."""
    return clean_env(database_url=database_url, secret_key=TEST_SECRET_KEY, **extra)


async def count_rows(database_url: str) -> tuple[int, int]:
    """How many users and posts the database holds."""
    engine = create_async_engine(database_url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            users = await connection.scalar(select(func.count()).select_from(User))
            posts = await connection.scalar(select(func.count()).select_from(Post))
    finally:
        await engine.dispose()
    return users or 0, posts or 0
