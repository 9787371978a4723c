"""`fastblog serve`: the uvicorn options it passes and what it does to the served process."""

import contextlib
import gc
import logging
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette

from fastblog import cli
from fastblog.config import get_settings

STARTED: dict[str, Any] = {}


@pytest.fixture
def uvicorn_options(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """What `serve` hands to uvicorn.run, which is not called."""
    options: dict[str, Any] = {}

    def run(app: str, **kwargs: Any) -> None:
        folder = os.environ.get(cli.MULTIPROCESS_DIR_ENV)
        options.update(kwargs, app=app, metrics_dir=folder)
        if folder is not None:
            options["metrics_dir_files"] = sorted(path.name for path in Path(folder).iterdir())

    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.setenv(cli.SERVED_APP_ENV, "restored after the test")
    monkeypatch.delenv(cli.MULTIPROCESS_DIR_ENV, raising=False)
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


@pytest.mark.parametrize(("env", "expected"), [(None, 5), ("75", 75)])
def test_idle_connections_are_kept_as_long_as_keep_alive_seconds_says(
    uvicorn_options: dict[str, Any], monkeypatch: pytest.MonkeyPatch, env: str | None, expected: int
) -> None:
    """Behind a proxy it must outlast the proxy's idle timeout (see config.py)."""
    if env is None:
        monkeypatch.delenv("KEEP_ALIVE_SECONDS", raising=False)
    else:
        monkeypatch.setenv("KEEP_ALIVE_SECONDS", env)

    cli.serve("127.0.0.1", 8000, 1, False)

    assert uvicorn_options["timeout_keep_alive"] == expected


@pytest.mark.parametrize(
    ("env", "expected"), [(None, None), ("10.0.0.2,10.0.0.3", "10.0.0.2,10.0.0.3")]
)
def test_the_proxies_to_trust_are_handed_to_uvicorn(
    uvicorn_options: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    env: str | None,
    expected: str | None,
) -> None:
    """Unset, uvicorn trusts 127.0.0.1's X-Forwarded-For; FORWARDED_ALLOW_IPS (also read from
    .env) names the proxies, and tells the app it is behind one (fastblog.proxied)."""
    if env is None:
        monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    else:
        monkeypatch.setenv("FORWARDED_ALLOW_IPS", env)

    cli.serve("127.0.0.1", 8000, 1, False)

    assert uvicorn_options["proxy_headers"] is True
    assert uvicorn_options["forwarded_allow_ips"] == expected


def test_serve_runs_the_given_factory_through_served_app(
    uvicorn_options: dict[str, Any],
) -> None:
    cli.serve("127.0.0.1", 8000, 2, False, app="tests.test_serve:small_app")

    assert uvicorn_options["app"] == "fastblog.cli:served_app"
    assert uvicorn_options["factory"] is True
    assert uvicorn_options["workers"] == 2
    assert os.environ[cli.SERVED_APP_ENV] == "tests.test_serve:small_app"


def small_app() -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        STARTED["frozen during start-up"] = gc.get_freeze_count()
        yield {"resource": "made at start-up"}

    return Starlette(lifespan=lifespan)


@pytest.fixture
def restored_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.anyio
@pytest.mark.usefixtures("restored_gc")
async def test_served_app_freezes_the_heap_once_started(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cli.SERVED_APP_ENV, "tests.test_serve:small_app")
    gc.unfreeze()
    app = cli.served_app()

    async with app.router.lifespan_context(app) as state:
        assert state == {"resource": "made at start-up"}  # the app's own state, untouched
        assert STARTED["frozen during start-up"] == 0
        assert gc.get_freeze_count() > 10_000  # at least the modules and classes
        assert gc.get_threshold()[0] == cli.YOUNG_GC_THRESHOLD


async def bare_asgi_app(scope: Any, receive: Any, send: Any) -> None:
    return None


def bare_app() -> Any:
    return bare_asgi_app


def test_served_app_serves_a_bare_asgi_callable_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cli.SERVED_APP_ENV, "tests.test_serve:bare_app")

    assert cli.served_app() is bare_asgi_app


@pytest.fixture
def no_redis_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no `.env` here
    monkeypatch.delenv("REDIS_URL", raising=False)


PER_PROCESS = "no REDIS_URL: login failures (and rate limits) are counted in each process"


@pytest.mark.usefixtures("no_redis_url")
def test_several_workers_without_redis_are_warned_about_at_start_up(
    uvicorn_options: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="fastblog.cli"):
        cli.serve("127.0.0.1", 8000, 3, False)

    [record] = [record for record in caplog.records if PER_PROCESS in record.getMessage()]
    assert record.levelno == logging.WARNING
    assert "Serving with 3 worker processes" in record.getMessage()
    assert "up to 3 times the limit" in record.getMessage()


@pytest.mark.usefixtures("no_redis_url")
@pytest.mark.parametrize(
    ("workers", "reload", "redis_url"),
    [(1, False, None), (2, True, None), (2, False, "redis://127.0.0.1:6379/13")],
    ids=["one-worker", "reload", "with-redis"],
)
def test_no_warning_when_the_counts_are_shared(
    uvicorn_options: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    workers: int,
    reload: bool,
    redis_url: str | None,
) -> None:
    if redis_url is not None:
        monkeypatch.setenv("REDIS_URL", redis_url)

    with caplog.at_level(logging.WARNING, logger="fastblog.cli"):
        cli.serve("127.0.0.1", 8000, workers, reload)

    assert PER_PROCESS not in caplog.text


def test_several_workers_share_a_fresh_metrics_folder_removed_at_exit(
    uvicorn_options: dict[str, Any],
) -> None:
    cli.serve("127.0.0.1", 8000, 2, False)

    folder = uvicorn_options["metrics_dir"]
    assert folder is not None, "the workers were started without PROMETHEUS_MULTIPROC_DIR"
    assert uvicorn_options["metrics_dir_files"] == []
    assert not Path(folder).exists()
    assert cli.MULTIPROCESS_DIR_ENV not in os.environ


@pytest.mark.parametrize("reload", [False, True])
def test_one_process_keeps_its_metrics_in_memory(
    uvicorn_options: dict[str, Any], reload: bool
) -> None:
    cli.serve("127.0.0.1", 8000, 1 if not reload else 4, reload)

    assert uvicorn_options["metrics_dir"] is None


def test_a_metrics_folder_the_operator_gives_is_emptied_and_kept(
    uvicorn_options: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_4242.db").write_bytes(b"an earlier run's counts")
    (folder / "README").write_text("not ours")
    monkeypatch.setenv(cli.MULTIPROCESS_DIR_ENV, str(folder))

    cli.serve("127.0.0.1", 8000, 2, False)

    assert uvicorn_options["metrics_dir"] == str(folder)
    assert uvicorn_options["metrics_dir_files"] == ["README"]
    assert folder.is_dir()
    assert os.environ[cli.MULTIPROCESS_DIR_ENV] == str(folder)
