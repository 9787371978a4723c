"""Running the installed `fastblog` command as its own process, and reading its database after."""

import contextlib
import io
import os

import anyio
import pytest
from sqlalchemy import func, pool, select
from sqlalchemy.ext.asyncio import create_async_engine

from bench.live import FASTBLOG
from fastblog import cli
from fastblog.accounts.models import User
from fastblog.config import Settings
from fastblog.posts.models import Post
from tests.factories import CHEAP_ARGON2, TEST_SECRET_KEY

__all__ = ["FASTBLOG", "count_rows", "fastblog_env", "fastblog_in_process"]


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


async def fastblog_in_process(settings: Settings, *args: str) -> tuple[int, str, str]:
    """`fastblog *args` through the command's own `main` in this test process, on `settings`:
    exit status, stdout, stderr. For a test's later commands, once its first has run as the
    installed command in a process of its own (environment, settings, exit status): the same
    parsing, code and messages, without an interpreter and its imports each time (~0.8 CPU-s).
    In a thread: the command runs an event loop of its own, as it does in its process."""
    out, err = io.StringIO(), io.StringIO()

    def run() -> int:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                cli.main(list(args))
            except SystemExit as exited:  # sys.exit(n) and argparse's errors, as the shell sees
                code = exited.code
                return code if isinstance(code, int) else int(code is not None)
        return 0

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cli, "get_settings", lambda: settings)
        status = await anyio.to_thread.run_sync(run)
    return status, out.getvalue(), err.getvalue()
