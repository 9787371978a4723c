"""`fastblog serve`: the uvicorn options it passes and what it does to the served process."""

from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from fastblog import cli
from fastblog.config import get_settings


@pytest.fixture
def uvicorn_options(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """What `serve` hands to uvicorn.run, which is not called."""
    options: dict[str, Any] = {}

    def run(app: str, **kwargs: Any) -> None:
        options.update(kwargs, app=app)

    monkeypatch.setattr(uvicorn, "run", run)
    get_settings.cache_clear()
    yield options
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("access_log_env", "reload", "expected"),
    [(None, False, False), (None, True, True), ("true", False, True), ("false", True, False)],
)
def test_the_access_log_is_off_unless_reloading_or_asked_for(
    uvicorn_options: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    access_log_env: str | None,
    reload: bool,
    expected: bool,
) -> None:
    if access_log_env is None:
        monkeypatch.delenv("ACCESS_LOG", raising=False)
    else:
        monkeypatch.setenv("ACCESS_LOG", access_log_env)

    cli.serve("127.0.0.1", 8000, 1, reload)

    assert uvicorn_options["access_log"] is expected
