"""Migrated databases, copied from a template this worker migrates once.

Running every migration costs one to three seconds a database; the tests that need a fresh,
migrated database of their own (a server process, the seed, the CLI) are many. Each test
process migrates one template per backend, the first time one is asked for, and copies it:
SQLite through the backup API (a consistent copy, whatever the journal mode), PostgreSQL with
`CREATE DATABASE … TEMPLATE` (a file-level copy on the server). The tests of the migrations
themselves start from an empty database and run them (tests/test_migrations.py, test_cli.py).
"""

import asyncio
import atexit
import contextlib
import functools
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from fastblog.cli import upgrade_database
from tests.conftest import PG_ADMIN_URL, _pg_admin, _postgres_or_skip


def postgres_url_of(name: str) -> str:
    admin = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{admin}/{name}"


@functools.cache
def _sqlite_template() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="fastblog-template-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = folder / "template.db"
    upgrade_database(f"sqlite+aiosqlite:///{path}")
    return path


@functools.cache
def _postgres_template() -> str:
    name = f"fastblog_template_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    atexit.register(
        lambda: asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    )
    upgrade_database(postgres_url_of(name))
    return name


def migrated_sqlite(path: Path) -> str:
    """A migrated SQLite database at `path`; its URL."""
    with (
        contextlib.closing(sqlite3.connect(_sqlite_template())) as template,
        contextlib.closing(sqlite3.connect(path)) as copy,
    ):
        template.backup(copy)
    return f"sqlite+aiosqlite:///{path}"


@contextlib.contextmanager
def migrated_postgres() -> Iterator[str]:
    """A new, migrated PostgreSQL database; its name, dropped afterwards (connections and all)."""
    _postgres_or_skip()
    template = _postgres_template()
    name = f"fastblog_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield name
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
