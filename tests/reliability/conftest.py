"""Fixtures for tests that run real server processes on their own databases."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.databases import postgres_database, postgres_dsn, sqlite_database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, migrated database for one test: a SQLite file, or a throwaway PostgreSQL one."""
    if request.param == "sqlite":
        yield sqlite_database(tmp_path)
        return
    with postgres_database() as name:
        yield postgres_dsn(name)


@pytest.fixture
def sqlite_file_url(tmp_path: Path) -> str:
    """A new, migrated SQLite file (migrations run outside the test's event loop)."""
    return sqlite_database(tmp_path)
