"""SQLite that cannot be written: a clear error at start-up, or a 503 — never silent loss.

A missing folder, a folder or file that cannot be written (read-only for root too: the
immutable flag, or a read-only bind mount), a directory where the file should be: the app
refuses to start and says which path and why. A disk that fills up while serving (SQLite's
page limit stands in for it) answers 503, and the write that did not fit is not half there.
"""

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from fastblog.db import DatabaseNotWritableError
from fastblog.errors import DATABASE_UNAVAILABLE
from fastblog.posts.models import Post
from tests.apps import create_app
from tests.asgi import asgi_transport, resources_of, started
from tests.conftest import IN_CI, make_settings
from tests.connections import on_each_connection
from tests.factories import login_through_endpoint
from tests.reliability.browser import browser_login
from tests.reliability.server import running_server, server_env

pytestmark = pytest.mark.anyio


def url_of(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def start(database: Path, tmp_path: Path) -> None:
    app = create_app(make_settings(url_of(database), tmp_path / "media"))
    async with started(app):
        pytest.fail("the app started on a database it cannot write")


def writable(path: Path) -> bool:
    try:
        if path.is_dir():
            with tempfile.TemporaryFile(dir=path):
                return True
        with path.open("r+b"):
            return True
    except OSError:
        return False


def run(*command: str) -> str | None:
    """Run a system command: None if it worked, else what went wrong."""
    if shutil.which(command[0]) is None:
        return f"{command[0]} is not installed"
    done = subprocess.run(command, check=False, capture_output=True, text=True)
    return None if done.returncode == 0 else f"{' '.join(command)}: {done.stderr.strip()}"


@contextlib.contextmanager
def immutable(path: Path) -> Iterator[str | None]:
    """The immutable flag (ext4, xfs, btrfs): read-only for root too."""
    failed = run("chattr", "+i", str(path))
    try:
        yield failed
    finally:
        if failed is None:
            run("chattr", "-i", str(path))


@contextlib.contextmanager
def read_only_mount(path: Path) -> Iterator[str | None]:
    """`path` bind-mounted read-only on itself: for filesystems without the immutable flag
    (tmpfs, some overlays)."""
    failed = run("mount", "--bind", str(path), str(path))
    mounted = failed is None
    if mounted:
        failed = run("mount", "-o", "remount,bind,ro", str(path))
    try:
        yield failed
    finally:
        if mounted:
            run("umount", str(path))


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """No write bits, and for root (who ignores them) the immutable flag, or else a read-only
    bind mount. If neither works the test is skipped, and fails in CI."""
    mode = path.stat().st_mode
    path.chmod(mode & 0o555)
    try:
        with contextlib.ExitStack() as stack:
            failures = []
            for way in (immutable, read_only_mount):
                if not writable(path):
                    break
                failed = stack.enter_context(way(path))
                if failed:
                    failures.append(failed)
            if writable(path):
                message = f"cannot make {path} read-only on this machine: {'; '.join(failures)}"
                if IN_CI:
                    pytest.fail(message + " (CI requires it)", pytrace=False)
                pytest.skip(message)
            yield
    finally:
        path.chmod(mode)


async def test_a_missing_folder_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(DatabaseNotWritableError, match=r"SQLite folder .*missing does not exist"):
        await start(tmp_path / "missing" / "fastblog.db", tmp_path)


async def test_a_read_only_folder_stops_the_start(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    with read_only(folder), pytest.raises(DatabaseNotWritableError, match=r"is not writable"):
        await start(folder / "fastblog.db", tmp_path)


async def test_a_read_only_database_file_stops_the_start(
    sqlite_file_url: str, tmp_path: Path
) -> None:
    database = tmp_path / "fastblog.db"
    assert sqlite_file_url.endswith(str(database))
    message = rf"{database} is not writable: cannot write in {database}"
    with read_only(database), pytest.raises(DatabaseNotWritableError, match=message):
        await start(database, tmp_path)


async def test_a_directory_in_place_of_the_database_stops_the_start(tmp_path: Path) -> None:
    (tmp_path / "fastblog.db").mkdir()
    with pytest.raises(DatabaseNotWritableError, match="is not a file"):
        await start(tmp_path / "fastblog.db", tmp_path)


def test_the_server_exits_saying_why(tmp_path: Path) -> None:
    """What an operator sees: the process stops at once, and its log names the problem."""
    database = tmp_path / "missing" / "fastblog.db"
    env = server_env(url_of(database), tmp_path / "media")
    with (
        pytest.raises(RuntimeError, match="server exited at start-up") as failed,
        running_server(env, tmp_path / "server.log"),
    ):
        pass
    assert f"SQLite folder {database.parent} does not exist" in str(failed.value)


async def test_a_full_disk_is_a_503_and_nothing_half_stored(
    sqlite_file_url: str, tmp_path: Path
) -> None:
    app = create_app(make_settings(sqlite_file_url, tmp_path / "media"))
    transport = asgi_transport(app, raise_app_exceptions=False)
    async with (
        started(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
    ):
        body = {"username": "full", "email": "full@example.com", "password": "full-password"}
        assert (await client.post("/api/users", json=body)).status_code == 201
        headers = await login_through_endpoint(client, body["email"], body["password"])
        database = resources_of(app).database
        engine = database.engine
        async with engine.connect() as connection:
            pages = (await connection.exec_driver_sql("PRAGMA page_count")).scalar_one()

        def disk_full(dbapi_connection: Any) -> None:
            dbapi_connection.cursor().execute(f"PRAGMA max_page_count = {pages + 1}")

        with on_each_connection(engine, disk_full):
            # The compiled road's own connections open on first use: after this.
            database.runner.on_connect.append(disk_full)  # type: ignore[attr-defined]

            post = {"title": "too big", "content": "x" * 90_000}
            response = await client.post("/api/posts", json=post, headers=headers)

            assert response.status_code == 503
            assert response.json() == {"detail": DATABASE_UNAVAILABLE}
            assert "retry-after" in response.headers

            class User:  # browser_login needs only the email
                email = body["email"]

            csrf = await browser_login(client, User(), body["password"])  # type: ignore[arg-type]
            page = await client.post("/posts/new", data={**post, "csrf_token": csrf})
            assert page.status_code == 503
            assert DATABASE_UNAVAILABLE in page.text

            async with resources_of(app).database.session() as session:
                assert await session.scalar(select(func.count()).select_from(Post)) == 0
