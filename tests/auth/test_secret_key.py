"""The signing key: made once beside the SQLite database and kept; weak values refuse to start."""

import logging
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from fastapi import FastAPI

from fastblog.accounts.signing_key import InsecureSecretKeyError, resolve_secret_key
from fastblog.models import Base
from tests.accounts import CSRF_FIELD, browser, browser_login
from tests.apps import create_app
from tests.asgi import resources_of, started
from tests.conftest import make_settings
from tests.factories import make_user

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[FastAPI]:
    async with started(app):
        yield app


def test_a_server_database_without_a_secret_key_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Several app hosts on one PostgreSQL must sign with one key; a key file is one host's."""
    monkeypatch.chdir(tmp_path)
    settings = make_settings(
        "postgresql+asyncpg://postgres@127.0.0.1:5432/fastblog", tmp_path / "media", secret_key=None
    )
    with caplog.at_level(logging.WARNING, logger="fastblog.accounts.signing_key"):
        key = resolve_secret_key(settings)

    assert key == (tmp_path / "fastblog.secret").read_text()
    [warning] = caplog.records
    assert "give every host the same SECRET_KEY" in warning.getMessage()


def test_sqlite_without_a_secret_key_is_not_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'blog.db'}", tmp_path / "media", secret_key=None
    )
    with caplog.at_level(logging.WARNING, logger="fastblog.accounts.signing_key"):
        resolve_secret_key(settings)

    assert caplog.records == []


async def test_without_a_secret_key_one_is_kept_beside_the_database(tmp_path: Path) -> None:
    database = tmp_path / "blog.db"
    settings = make_settings(f"sqlite+aiosqlite:///{database}", tmp_path / "media", secret_key=None)

    first = create_app(settings)
    key_file = tmp_path / "blog.db.secret"
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_text()) >= 32
    second = create_app(settings)  # a restart

    async with running(first), running(second):
        kept = key_file.read_text()
        assert resources_of(second).secret_key == resources_of(first).secret_key == kept
        async with resources_of(first).database.engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        async with resources_of(first).database.session() as session:
            user = await make_user(session, username="mallory")
        async with browser(first) as before_restart:
            await browser_login(before_restart, user)
            cookie = before_restart.cookies["fastblog_session"]
        async with browser(second) as after_restart:
            after_restart.cookies.set("fastblog_session", cookie)
            account = await after_restart.get("/account")

    assert account.status_code == 200
    assert "mallory" in account.text


async def test_another_key_does_not_accept_the_session(tmp_path: Path) -> None:
    """The control for the test above: a cookie signed with another key is ignored."""
    databases = [tmp_path / "one.db", tmp_path / "two.db"]
    apps = [
        create_app(make_settings(f"sqlite+aiosqlite:///{db}", tmp_path, secret_key=None))
        for db in databases
    ]
    async with (
        running(apps[0]),
        running(apps[1]),
        browser(apps[0]) as one,
        browser(apps[1]) as two,
    ):
        assert resources_of(apps[0]).secret_key != resources_of(apps[1]).secret_key
        form = await one.get("/forgot-password")  # a session with a CSRF token
        two.cookies.set("fastblog_session", one.cookies["fastblog_session"])
        token = CSRF_FIELD.search(form.text)
        assert token
        response = await two.post("/logout", data={"csrf_token": token.group(1)})
        control = await one.post("/logout", data={"csrf_token": token.group(1)})

    assert control.status_code == 303

    assert response.status_code == 403


@pytest.mark.parametrize(
    "key",
    [
        "changeme",
        "CHANGEME",
        "secret",
        "changethis-changethis-changethis-changethis",
        "x" * 31,
        "",
    ],
)
def test_a_placeholder_or_short_secret_key_refuses_to_start(tmp_path: Path, key: str) -> None:
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", tmp_path, secret_key=key)

    with pytest.raises(InsecureSecretKeyError):
        create_app(settings)


async def test_a_long_random_key_is_accepted(tmp_path: Path) -> None:
    key = "k" * 32
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", tmp_path, secret_key=key)

    async with started(create_app(settings)) as resources:
        assert resources.secret_key == key
    assert not (tmp_path / "x.db.secret").exists()
