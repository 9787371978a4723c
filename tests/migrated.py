"""Migrated databases, copied from a template this worker migrates once.

Running every migration costs one to three seconds a database; the tests that need a fresh,
migrated database of their own (a server process, the seed, the CLI) are many. Each test
process migrates one template per backend, the first time one is asked for, and copies it:
SQLite through the backup API (a consistent copy, whatever the journal mode), PostgreSQL with
`CREATE DATABASE … TEMPLATE` (a file-level copy on the server). The tests of the migrations
themselves start from an empty database and run them (tests/test_migrations.py, test_cli.py).

A PostgreSQL copy costs its creation, 1-3 s of waiting on the loaded 2-core machine (the 9 MB
template written through the WAL), and its DROP (a checkpoint: see
tests.conftest.drop_postgres_database_at_exit), for each of the ~200 tests that ask for one. A
copy its test left as it found it, but for its rows, is kept for the next test of the process
instead: emptied (every table, every sequence restarted, as the `client` fixture empties the
shared database) it is what a new copy is, since a migrated database holds no row but its
alembic_version. A copy whose schema the test changed (a trigger playing a race, a migration
run up or down) is set aside, disconnected, and dropped with the others when the process ends.
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

import asyncpg

from fastblog.cli import upgrade_database
from tests.conftest import (
    PG_ADMIN_URL,
    _pg_admin,
    _postgres_or_skip,
    drop_postgres_database_at_exit,
    reset_database_at,
)


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
    drop_postgres_database_at_exit(name)
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
    """A migrated PostgreSQL database as new, the caller's alone; its name. Afterwards it is
    kept for the next caller if its schema is still the template's, else set aside."""
    _postgres_or_skip()
    name = _SPARES.pop() if _SPARES else _new_copy()
    try:
        yield name
    finally:
        asyncio.run(_put_back(name, template=_template_fingerprint()))


# Databases of this process's earlier tests, emptied, schema unchanged: handed out first.
_SPARES: list[str] = []


def _new_copy() -> str:
    name = f"fastblog_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{_postgres_template()}"'))
    drop_postgres_database_at_exit(name)
    return name


async def _put_back(name: str, *, template: str) -> None:
    """Kept, emptied, for the next caller if the test changed no part of the schema; else
    set aside. Either way no connection of the test's is left on it."""
    connection = await asyncpg.connect(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", timeout=5)
    try:
        await connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        unchanged = await connection.fetchval(SCHEMA_FINGERPRINT) == template
    finally:
        await connection.close()
    if unchanged:
        await reset_database_at(postgres_url_of(name))
        _SPARES.append(name)


# What a test could change in a copy besides its rows: relations (tables, indexes, sequences,
# views) and their storage options, columns, triggers, functions, the migration recorded,
# the database's own settings, extensions.
SCHEMA_FINGERPRINT = """
SELECT md5(string_agg(item, ',' ORDER BY item)) FROM (
    SELECT 'r:' || c.relname || ':' || c.relkind::text || ':'
        || coalesce(array_to_string(c.reloptions, ';'), '')
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'
    UNION ALL
    SELECT 'a:' || c.relname || '.' || a.attname || ':' || a.atttypid::text
        || ':' || a.attnotnull::text
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT 't:' || tgname || ':' || tgenabled::text FROM pg_trigger WHERE NOT tgisinternal
    UNION ALL
    SELECT 'f:' || p.proname || ':' || md5(p.prosrc)
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'
    UNION ALL
    SELECT 'v:' || version_num FROM alembic_version
    UNION ALL
    SELECT 's:' || array_to_string(setconfig, ';') FROM pg_db_role_setting
    WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
    UNION ALL
    SELECT 'e:' || extname FROM pg_extension
) AS schema (item)
"""


@functools.cache
def _template_fingerprint() -> str:
    async def read() -> str:
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{_postgres_template()}"
        connection = await asyncpg.connect(url, timeout=5)
        try:
            fingerprint: str = await connection.fetchval(SCHEMA_FINGERPRINT)
        finally:
            await connection.close()
        return fingerprint

    return asyncio.run(read())
