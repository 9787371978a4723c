"""What breaks a SQLite connection that sat idle while others worked: sqlite3 alone, no app.

    python -m tests.reliability.sqlite_schema_change [sqlite3 | pysqlite3.dbapi2]

The schema is the blog's in miniature: posts, an FTS5 external-content index over them kept
by triggers, and post_tags whose triggers update posts (so a DELETE on post_tags reaches FTS5).
A connection A is opened and used, then left idle while one of two things happens:

- `schema change`: another process changes the schema (a trigger made and dropped, an index
  made, ANALYZE, FTS5's rebuild) and exits. A then deletes from post_tags, searches and
  writes; a new process does the same. Expected: all fine (SQLite sees the schema cookie
  move and prepares A's statements again).
- `locks dropped`: this process opens and closes the database file with plain open() and
  close(). POSIX drops every lock a process holds on a file when it closes any descriptor of
  it, SQLite's own included (https://www.sqlite.org/howtocorrupt.html, 2.2). Another process
  then reads and exits; finding no other user of the database, its last connection
  checkpoints and deletes the WAL and shared-memory files that A still has open. A goes on
  writing to the deleted WAL, which no one else reads: a table A creates is "no such table"
  to another process, and a new connection fails with "vtable constructor failed" (FTS5) or
  "disk I/O error".

Run with an argument to try another SQLite build (pysqlite3-binary bundles a newer one).
"""

import importlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

SCHEMA = """
PRAGMA journal_mode=WAL;
CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT NOT NULL, tag_names TEXT DEFAULT '');
CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT UNIQUE);
CREATE TABLE post_tags (post_id INTEGER, tag_id INTEGER, PRIMARY KEY (post_id, tag_id));
CREATE VIRTUAL TABLE posts_search USING fts5(title, tag_names, content='posts', content_rowid='id');
CREATE TRIGGER posts_ai AFTER INSERT ON posts BEGIN
  INSERT INTO posts_search (rowid, title, tag_names) VALUES (NEW.id, NEW.title, NEW.tag_names);
END;
CREATE TRIGGER posts_au AFTER UPDATE OF title, tag_names ON posts BEGIN
  INSERT INTO posts_search (posts_search, rowid, title, tag_names)
  VALUES ('delete', OLD.id, OLD.title, OLD.tag_names);
  INSERT INTO posts_search (rowid, title, tag_names) VALUES (NEW.id, NEW.title, NEW.tag_names);
END;
CREATE TRIGGER post_tags_ad AFTER DELETE ON post_tags BEGIN
  UPDATE posts SET tag_names = coalesce((SELECT group_concat(name, ' ') FROM post_tags
    JOIN tags ON tags.id = tag_id WHERE post_id = OLD.post_id), '') WHERE id = OLD.post_id;
END;
INSERT INTO tags (name) VALUES ('one'), ('two');
"""
SCHEMA_CHANGE = """
CREATE TRIGGER refuse BEFORE INSERT ON tags BEGIN SELECT RAISE(ABORT, 'no'); END;
DROP TRIGGER refuse;
CREATE INDEX ix_posts_title ON posts (title);
ANALYZE;
INSERT INTO posts_search (posts_search) VALUES ('rebuild');
"""
READ = "SELECT count(*) FROM posts;"
# What another process does with the file: its statements, then its last connection closes.
OTHER = """
import importlib, sys
sqlite = importlib.import_module(sys.argv[1])
connection = sqlite.connect(sys.argv[2], isolation_level=None)
try:
    print(connection.executescript(sys.argv[3]).fetchall() or "ok")
except sqlite.Error as exc:
    print(f"{type(exc).__name__}: {exc}")
connection.close()
"""


def in_another_process(module: str, path: Path, script: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", OTHER, module, str(path), script],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def attempt(connection: Any, sqlite: Any, sql: str, *parameters: object) -> str:
    try:
        connection.execute(sql, parameters).fetchall()
    except sqlite.Error as exc:
        return f"{type(exc).__name__}: {exc}"
    return "ok"


def drop_locks(path: Path) -> None:
    with path.open("rb"):
        pass  # its close drops A's locks too


def scenario(
    module: str, folder: Path, *, here: Callable[[Path], None] | None, there: str
) -> dict[str, str]:
    """A used and left idle; `here(path)` in this process, `there` (SQL) in another process
    that then exits; what A, a new connection here and a new process find."""
    sqlite = importlib.import_module(module)
    path = folder / "blog.db"
    a = sqlite.connect(str(path), isolation_level=None)
    a.executescript(SCHEMA)
    for n in (1, 2, 3):  # used, so its statements are prepared and cached
        a.execute("INSERT INTO posts (id, title) VALUES (?, ?)", (n, f"post {n}"))
        a.execute("INSERT INTO post_tags VALUES (?, 1), (?, 2)", (n, n))
    a.execute("DELETE FROM post_tags WHERE post_id = 1 AND tag_id = 1")
    if here is not None:
        here(path)
    other = in_another_process(module, path, there)
    found: dict[str, str] = {
        "SQLite": sqlite.sqlite_version,
        "the other process": other,
        "WAL still there": str(os.path.exists(f"{path}-wal")),
        "A: DELETE FROM post_tags": attempt(
            a, sqlite, "DELETE FROM post_tags WHERE post_id = 2 AND tag_id = 1"
        ),
        "A: search": attempt(
            a, sqlite, "SELECT rowid FROM posts_search WHERE posts_search MATCH 'two'"
        ),
        "A: CREATE TABLE": attempt(a, sqlite, "CREATE TABLE written_by_a (x)"),
    }
    b = sqlite.connect(str(path), isolation_level=None)
    found["new connection in A's process: search"] = attempt(
        b, sqlite, "SELECT rowid FROM posts_search WHERE posts_search MATCH 'post'"
    )
    b.close()
    found["new process: search, DELETE"] = in_another_process(
        module,
        path,
        "SELECT rowid FROM posts_search WHERE posts_search MATCH 'post';"
        " DELETE FROM post_tags WHERE post_id = 3;",
    )
    found["new process: A's table"] = in_another_process(
        module, path, "SELECT * FROM written_by_a;"
    )
    a.close()
    return found


def main() -> None:
    module = sys.argv[1] if len(sys.argv) > 1 else "sqlite3"
    for name, here, there in (
        ("schema change", None, SCHEMA_CHANGE),
        ("locks dropped", drop_locks, READ),
    ):
        with tempfile.TemporaryDirectory() as folder:
            print(f"{name}:")
            for step, outcome in scenario(module, Path(folder), here=here, there=there).items():
                print(f"  {step}: {outcome}")


if __name__ == "__main__":
    main()
