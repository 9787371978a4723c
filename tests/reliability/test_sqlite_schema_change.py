"""SQLite connections left idle while others work, with sqlite3 alone and real processes
(tests.reliability.sqlite_schema_change says what each step does and why).

Another process's schema change breaks no idle connection: this is why `fastblog seed` and the
search index rebuild may run against a served SQLite file. What does break them is a process
dropping its own POSIX locks on the file (a plain open() and close()): the next process to
leave deletes the WAL under them. The app's start-up check must not do that.
"""

import sqlite3
from pathlib import Path

from fastblog.db.engine import check_sqlite_writable
from tests.reliability.sqlite_schema_change import READ, SCHEMA_CHANGE, scenario

ALL_FINE = {
    "the other process": "ok",
    "WAL still there": "True",
    "A: DELETE FROM post_tags": "ok",
    "A: search": "ok",
    "A: CREATE TABLE": "ok",
    "new connection in A's process: search": "ok",
    "new process: search, DELETE": "ok",
    "new process: A's table": "ok",
}


def outcomes(found: dict[str, str]) -> dict[str, str]:
    return {step: outcome for step, outcome in found.items() if step != "SQLite"}


def test_a_schema_change_in_another_process_breaks_no_idle_connection(tmp_path: Path) -> None:
    found = scenario("sqlite3", tmp_path, here=None, there=SCHEMA_CHANGE)
    assert outcomes(found) == ALL_FINE, sqlite3.sqlite_version


def test_the_start_up_check_leaves_the_served_files_locks_alone(tmp_path: Path) -> None:
    """A second app started in a process that serves the file (as the tests' make_app does)
    runs the check while the first app's connections are open."""

    def start_up_check(path: Path) -> None:
        check_sqlite_writable(f"sqlite+aiosqlite:///{path}")

    found = scenario("sqlite3", tmp_path, here=start_up_check, there=READ)
    assert outcomes(found) == ALL_FINE, sqlite3.sqlite_version
