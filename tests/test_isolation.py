"""The suite takes nothing from the developer's environment: not the variables, not a `.env`.

A hostile configuration (the one a README reader might have) is set both ways; the settings
tests build, and the environment of the processes they start, hold only what the test gave.
"""

from pathlib import Path

import pytest

from fastblog.config import Settings
from tests.conftest import make_settings
from tests.factories import CHEAP_ARGON2, TEST_SECRET_KEY
from tests.processes import fastblog_env
from tests.reliability.server import server_env

HOSTILE = {
    "POSTS_PER_PAGE": "5",
    "LAB_ENABLED": "false",
    "DATABASE_URL": "sqlite+aiosqlite:////nonexistent/x.db",
    "SECRET_KEY": "changeme",
    "REDIS_URL": "redis://127.0.0.1:1/0",
    "SMTP_HOST": "127.0.0.1",
}


@pytest.fixture
def hostile(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The hostile values exported, and in a `.env` in the working directory."""
    lines = [f"{name}={value}" for name, value in HOSTILE.items()]
    (tmp_path / ".env").write_text("\n".join(lines) + "\n")
    monkeypatch.chdir(tmp_path)
    for name, value in HOSTILE.items():
        monkeypatch.setenv(name, value)


@pytest.mark.usefixtures("hostile")
def test_the_hostile_environment_is_live() -> None:
    """The control: the app's own settings do read it, so the tests below mean something."""
    settings = Settings()

    assert settings.posts_per_page == 5
    assert settings.lab_enabled is False
    assert settings.database_url == HOSTILE["DATABASE_URL"]


@pytest.mark.usefixtures("hostile")
def test_test_settings_are_the_given_values_and_the_defaults(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    given = {
        "database_url": url,
        "media_dir": tmp_path,
        "process_pool_workers": 1,
        "write_rate_limits": False,
        "allowed_hosts": ["localhost", "127.0.0.1", "::1", "testserver", "blog", "10.0.0.5"],
        "new_account_role": "author",
        "notification_digest_poll_seconds": 3600,
        **CHEAP_ARGON2,
    }

    settings = make_settings(url, tmp_path)

    assert settings.secret_key is not None
    assert settings.secret_key.get_secret_value() == TEST_SECRET_KEY
    for name, field in Settings.model_fields.items():
        if name != "secret_key":
            default = field.get_default(call_default_factory=True)
            assert getattr(settings, name) == given.get(name, default), name


@pytest.mark.usefixtures("hostile")
def test_processes_get_only_their_settings(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    settings = {name.upper() for name in Settings.model_fields}

    for env in (fastblog_env(url), server_env(url, tmp_path / "media")):
        assert env["DATABASE_URL"] == url
        assert env["SECRET_KEY"] == TEST_SECRET_KEY
        assert not {"POSTS_PER_PAGE", "LAB_ENABLED", "REDIS_URL", "SMTP_HOST"} & set(env)
        assert set(env) <= settings | {"PATH", "HOME", "PYTHONPATH"}
