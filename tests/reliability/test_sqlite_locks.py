"""SQLite's locks belong to the process: a second app in it must not drop the first one's.

Closing any descriptor of a file drops every POSIX lock the process holds on that file, SQLite's
included. If starting an app did that, another process closing its last connection would find
the database unused, checkpoint it and delete the WAL and -shm files under the first app: its
old connections would go on with files no one else sees, and its new ones would fail ("disk
I/O error"). The start-up checks therefore go through SQLite, never through open() and close().
"""

import sys
from pathlib import Path

import anyio
import httpx
import pytest

from tests.apps import create_app
from tests.asgi import asgi_transport, started
from tests.conftest import make_settings

pytestmark = pytest.mark.anyio

# What a CLI command does: open the file, write, close its last connection.
WRITE_AND_CLOSE = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1])
connection.execute("UPDATE users SET username = username")
connection.commit()
connection.close()
"""


async def test_a_second_app_and_another_process_leave_the_first_app_working(
    sqlite_file_url: str, tmp_path: Path
) -> None:
    url = sqlite_file_url
    path = Path(url.removeprefix("sqlite+aiosqlite:///"))
    first = create_app(make_settings(url, tmp_path / "media"))
    async with (
        started(first),
        httpx.AsyncClient(transport=asgi_transport(first), base_url="http://testserver") as client,
    ):
        body = {"username": "ada", "email": "ada@example.com", "password": "a long password"}
        assert (await client.post("/api/users", json=body)).status_code == 201

        second = create_app(make_settings(url, tmp_path / "media-2"))
        async with started(second):
            pass
        # Another process (a CLI command, a second server) opens the file and closes it.
        other_process = [sys.executable, "-c", WRITE_AND_CLOSE, str(path)]
        assert (await anyio.run_process(other_process)).returncode == 0

        # The first app goes on writing; an app opened now (new connections) must see it.
        later = {"username": "grace", "email": "grace@example.com", "password": "a long password"}
        assert (await client.post("/api/users", json=later)).status_code == 201
        third = create_app(make_settings(url, tmp_path / "media-3"))
        async with (
            started(third),
            httpx.AsyncClient(
                transport=asgi_transport(third), base_url="http://testserver"
            ) as other,
        ):
            seen = [await other.get(f"/api/users/{user_id}") for user_id in (1, 2)]
        assert [response.status_code for response in seen] == [200, 200]
        assert [response.json()["username"] for response in seen] == ["ada", "grace"]
        assert await anyio.Path(f"{path}-wal").exists(), "the WAL was deleted under a live app"
