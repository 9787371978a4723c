"""The files of deploy/ agree with the app and with each other (the cluster tests run them)."""

import re
import subprocess

import pytest

from bench.cluster import HAPROXY_CONFIG, HOST_SETTINGS, haproxy_path
from bench.live import REPO_ROOT
from fastblog.config import Settings

SERVICE = REPO_ROOT / "deploy" / "fastblog.service"
# Read by `fastblog serve` (HOST, PORT, WORKERS) and prometheus_client, not by Settings.
READ_ELSEWHERE = {"HOST", "PORT", "WORKERS", "PROMETHEUS_MULTIPROC_DIR"}
GRACEFUL_SHUTDOWN_SECONDS = 30  # fastblog.cli.run_uvicorn: timeout_graceful_shutdown


def host_settings() -> dict[str, str]:
    lines = HOST_SETTINGS.read_text().splitlines()
    pairs = (line.partition("=") for line in lines if line and not line.startswith("#"))
    return {name: value for name, _, value in pairs}


def seconds(value: str) -> float:
    """An HAProxy duration: 1s, 500ms."""
    number, unit = re.fullmatch(r"(\d+)(ms|s)", value).groups()  # type: ignore[union-attr]
    return int(number) / (1000 if unit == "ms" else 1)


def test_every_host_setting_is_one_the_app_reads() -> None:
    known = {name.upper() for name in Settings.model_fields} | READ_ELSEWHERE
    assert set(host_settings()) - known == set()


def test_the_drain_outlasts_the_proxys_checks_and_systemd_waits_for_it() -> None:
    """A stopping host must be out of rotation before it stops answering, and systemd must not
    SIGKILL it while it drains and finishes its requests."""
    check = re.search(r"default-server (.*)", HAPROXY_CONFIG.read_text())
    assert check is not None
    options = check.group(1).split()
    inter, fall = (
        seconds(options[options.index("inter") + 1]),
        int(options[options.index("fall") + 1]),
    )
    grace = float(host_settings()["SHUTDOWN_GRACE_SECONDS"])
    stop_timeout = int(re.search(r"TimeoutStopSec=(\d+)", SERVICE.read_text()).group(1))  # type: ignore[union-attr]

    assert grace > fall * inter
    assert stop_timeout > grace + GRACEFUL_SHUTDOWN_SECONDS


@pytest.mark.parametrize("demo", [False, True], ids=["production", "make-cluster"])
def test_haproxy_accepts_the_configuration(demo: bool) -> None:
    haproxy = haproxy_path()
    if haproxy is None:
        pytest.skip("HAProxy is not installed")
    env = {"PATH": "/usr/bin:/bin", **({"FASTBLOG_DEMO": "1"} if demo else {})}
    checked = subprocess.run(
        [haproxy, "-c", "-f", str(HAPROXY_CONFIG)],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
