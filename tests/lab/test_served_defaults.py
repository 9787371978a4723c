"""`fastblog serve` with the defaults `make run` uses: no lab to freeze it, metrics for loopback."""

import os
from pathlib import Path

from bench.live import live_server


def test_the_default_server_has_no_lab_and_serves_metrics_to_loopback(tmp_path: Path) -> None:
    unset = ("LAB_", "METRICS_", "DATABASE_", "REDIS_", "SECRET_KEY")
    env = {name: value for name, value in os.environ.items() if not name.startswith(unset)}
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'fastblog.db'}"
    env["MEDIA_DIR"] = str(tmp_path / "media")
    # The working directory is the temp dir, so a developer's .env is not read.
    with live_server(env, cwd=tmp_path, log_path=tmp_path / "server.log") as server:
        assert server.get("/lab/io/blocking?ms=2000", timeout=5)[0] == 404
        assert server.get("/lab/cpu/inline?n=1000000", timeout=5)[0] == 404
        status, body = server.get("/metrics")
    assert status == 200  # this test is a loopback client
    assert b"fastblog_event_loop_lag_seconds" in body
