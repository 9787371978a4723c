"""`make bench-lab`: each lab mode under load at several concurrencies.

Environment: LAB_SECONDS (5 per mode and level), LAB_CONCURRENCY ("10,50,200"),
LAB_MS (100: the wait of the I/O modes), LAB_CPU_MS (50: the CPU time per call the
calibration aims at) or LAB_CPU_N (skip the calibration), LAB_TIMEOUT (30 s per
request), LAB_DB_URL (PostgreSQL for the pool scenario; default the local server),
LAB_MODES (a comma-separated subset, e.g. "async,fetch"; default all).
"""

import contextlib
import datetime as dt
import json
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from bench.db import fresh_database, migrate_and_seed
from bench.lab_report import LabPoint, render_report, results_table
from bench.live import LiveServer, live_server, stop_servers_on_exit
from bench.report import results_paths, run_metadata
from bench.wrk import LoadSettings, Scenario, run_load, wrk_version

CORES = os.cpu_count() or 1
DEFAULT_DB_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"

# mode -> path; "{ms}" is the wait, "{n}" the CPU work's size.
WAIT_MODES = {
    "async": "/lab/io/async?ms={ms}",
    "sync": "/lab/io/sync?ms={ms}",
    "blocking": "/lab/io/blocking?ms={ms}",
    "to-thread": "/lab/io/to-thread?ms={ms}",
    "fetch": "/lab/fetch?ms={ms}",
    "concurrent": "/lab/concurrent?ms={ms}",
}
CPU_MODES = {"cpu-inline": "/lab/cpu/inline?n={n}", "cpu-process": "/lab/cpu/process?n={n}"}
DB_MODE_PATH = "/lab/db/sleep?ms={ms}"


@dataclass(frozen=True)
class LabConfig:
    seconds: float
    levels: tuple[int, ...]
    wait_ms: int
    cpu_ms: float
    cpu_n: int | None
    timeout: float
    db_url: str
    modes: frozenset[str] | None  # None: every mode

    def wants(self, mode: str) -> bool:
        return self.modes is None or mode in self.modes

    @classmethod
    def from_env(cls) -> "LabConfig":
        env = os.environ
        return cls(
            seconds=float(env.get("LAB_SECONDS", "5")),
            levels=tuple(int(c) for c in env.get("LAB_CONCURRENCY", "10,50,200").split(",")),
            wait_ms=int(env.get("LAB_MS", "100")),
            cpu_ms=float(env.get("LAB_CPU_MS", "50")),
            cpu_n=int(env["LAB_CPU_N"]) if env.get("LAB_CPU_N") else None,
            timeout=float(env.get("LAB_TIMEOUT", "30")),
            db_url=env.get("LAB_DB_URL", DEFAULT_DB_URL),
            modes=frozenset(env["LAB_MODES"].split(",")) if env.get("LAB_MODES") else None,
        )


def probe(server: LiveServer, path: str) -> tuple[int, dict[str, float]]:
    """One request alone: its status and, on success, the JSON the lab answers."""
    status, body = server.get(path, timeout=60)
    return status, json.loads(body) if status == 200 else {}


def wait_for_drain(server: LiveServer, path: str, solo_s: float, timeout: float = 120) -> bool:
    """Wait until one request of this mode answers about as fast as it does alone.

    After a run, work whose clients have left goes on: a blocked loop's queue, the thread
    or process pool's backlog, the HTTP client's pool. /health would answer at once while
    a pool is still busy, so the mode itself is asked. False if it never drained.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sent = time.monotonic()
        status, _ = probe(server, path)
        if status == 200 and time.monotonic() - sent < 3 * solo_s + 0.1:
            return True
        time.sleep(0.2)
    return False


def sweep(
    server: LiveServer,
    mode: str,
    path: str,
    *,
    service_s: float,
    ideal: Callable[[int], float],
    config: LabConfig,
    notes: list[str],
) -> list[LabPoint]:
    points = []
    for concurrency in config.levels:
        if not wait_for_drain(server, path, service_s):
            notes.append(f"{mode} at {concurrency}: the previous run's backlog never drained.")
        settings = LoadSettings(concurrency, config.seconds, timeout_seconds=config.timeout)
        result = run_load(server.url, Scenario(mode, path), settings)
        point = LabPoint(mode, concurrency, result, ideal(concurrency), service_s)
        print(
            f"  {mode:<12} c={concurrency:<4} {result.requests_per_s:>9,.1f} requests/s  "
            f"p50 {result.p50_ms:8,.0f} ms  p99 {result.p99_ms:8,.0f} ms  "
            f"ratio {point.ratio:.2f}  in flight {point.in_flight:.1f}",
            flush=True,
        )
        points.append(point)
    return points


def calibrate_cpu(server: LiveServer, config: LabConfig) -> tuple[int, float]:
    """The work size n whose inline call takes about LAB_CPU_MS, and its median seconds.

    Doubling from a small n, because the lab's function and its bound on n are its own;
    a 422 means the bound is reached and the last accepted n is used.
    """
    n = config.cpu_n or 1_000
    while config.cpu_n is None:
        status, data = probe(server, CPU_MODES["cpu-inline"].format(n=n * 2))
        if status != 200:
            break
        n *= 2
        if data["elapsed_ms"] >= config.cpu_ms:
            break
    timings = [probe(server, CPU_MODES["cpu-inline"].format(n=n))[1]["elapsed_ms"] for _ in "123"]
    return n, statistics.median(timings) / 1000


def run_app_modes(
    server: LiveServer, config: LabConfig, context: dict[str, float], notes: list[str]
) -> list[LabPoint]:
    wait_s = config.wait_ms / 1000
    points = []
    for mode, template in WAIT_MODES.items():
        if not config.wants(mode):
            continue
        path = template.format(ms=config.wait_ms)
        if points:  # the previous mode's backlog must drain before one request is timed alone
            wait_for_drain(server, path, wait_s)
        status, data = probe(server, path)
        if status != 200:
            notes.append(f"{mode}: `GET {path}` answered {status}; not measured on this build.")
            continue
        if mode == "concurrent":
            context["gather_elapsed_ms"] = data["elapsed_ms"]
        ideal = lambda c: c / wait_s  # noqa: E731
        points += sweep(
            server, mode, path, service_s=wait_s, ideal=ideal, config=config, notes=notes
        )
        if mode == "async":
            context["async_rps_max"] = points[-1].result.requests_per_s
    if not (config.wants("cpu-inline") or config.wants("cpu-process")):
        return points
    if probe(server, CPU_MODES["cpu-inline"].format(n=1_000))[0] != 200:
        notes.append("cpu modes: `GET /lab/cpu/inline` is missing; not measured on this build.")
        return points
    n, cpu_s = calibrate_cpu(server, config)
    notes.append(f"CPU modes: n={n}, one inline call alone takes {cpu_s * 1000:.0f} ms.")
    for mode, template in CPU_MODES.items():
        if not config.wants(mode):
            continue
        ideal = lambda c: min(c, CORES) / cpu_s  # noqa: E731
        path = template.format(n=n)
        points += sweep(
            server, mode, path, service_s=cpu_s, ideal=ideal, config=config, notes=notes
        )
    inline = [p.result.requests_per_s for p in points if p.mode == "cpu-inline"]
    context["inline_rps_max"] = max(inline, default=0.0)
    return points


def run_db_pool(config: LabConfig, context: dict[str, float], notes: list[str]) -> list[LabPoint]:
    """The pool limit, on a throwaway PostgreSQL database; skipped without a server."""
    wait_s = config.wait_ms / 1000
    path = DB_MODE_PATH.format(ms=config.wait_ms)
    if not config.wants("db-pool"):
        return []
    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(fresh_database(config.db_url))
        except (OSError, asyncpg.PostgresError) as exc:
            notes.append(f"db-pool: PostgreSQL unreachable at {config.db_url} ({exc}); skipped.")
            return []
        env = {**os.environ, "DATABASE_URL": url}
        server = stack.enter_context(live_server(env, app="bench.pool_app:create_app"))
        status, data = probe(server, path)
        if status != 200:
            notes.append(f"db-pool: `GET {path}` answered {status}; skipped.")
            return []
        context["pool_capacity"] = data["pool_capacity"]
        ideal = lambda c: c / wait_s  # noqa: E731
        return sweep(
            server, "db-pool", path, service_s=wait_s, ideal=ideal, config=config, notes=notes
        )
    raise AssertionError("unreachable")  # ExitStack may swallow exceptions, as far as mypy knows


def run(config: LabConfig) -> Path:
    tool = wrk_version()
    meta = run_metadata(tool)
    print(f"fastblog bench-lab: {tool}; concurrency {config.levels}, {config.seconds:g} s each")
    context: dict[str, float] = {"wait_ms": config.wait_ms}
    notes: list[str] = []
    quiet = {**os.environ, "LOG_LEVEL": "WARNING"}
    with (
        fresh_database(None) as url,
        live_server(quiet, app="bench.upstream:create_app") as upstream,
    ):
        migrate_and_seed(url, users=0, posts=0)
        # As `make dev` serves (the lab on), calling an upstream in a process of its own.
        env = {**os.environ, "DATABASE_URL": url, "LAB_ENABLED": "true"}
        env["LAB_UPSTREAM_URL"] = f"{upstream.url}/sleep"
        with live_server(env) as server:
            points = run_app_modes(server, config, context, notes)
    points += run_db_pool(config, context, notes)
    notes.append(
        "Latencies count only requests completed within the window: where a mode saturates, "
        "the requests queued longest never finish in time, so real waits exceed its p99."
    )
    notes.append(
        "fetch and concurrent call bench/upstream.py, a process of its own that waits and "
        "answers, through the lab's one shared HTTP client (src/fastblog/lab/upstream.py)."
    )
    notes.append(
        "db-pool runs on bench/pool_app.py: the lab has no database route yet; it uses "
        "fastblog's own engine and pool settings and `SELECT pg_sleep(wait)`."
    )
    return publish(config, meta, points, context, notes)


def publish(
    config: LabConfig,
    meta: dict[str, str],
    points: list[LabPoint],
    context: dict[str, float],
    notes: list[str],
) -> Path:
    today = dt.date.today()
    report_path, chart_path = results_paths("lab", today)
    title = (
        f"make bench-lab, {today.isoformat()}: wait {config.wait_ms} ms, "
        f"{config.seconds:g} s per mode and concurrency"
    )
    series = {
        mode: (
            [p.concurrency for p in points if p.mode == mode],
            [p.result.requests_per_s for p in points if p.mode == mode],
        )
        for mode in dict.fromkeys(p.mode for p in points)
    }
    wait_ideal = (list(config.levels), [c * 1000 / config.wait_ms for c in config.levels])
    report_path.parent.mkdir(parents=True, exist_ok=True)
    from bench import charts  # matplotlib, imported only to draw (tests import this module)

    charts.throughput_lines(chart_path, title=title, series=series, reference=wait_ideal)
    meta = {**meta, "lab timeout per request": f"{config.timeout:g} s"}
    report = render_report(
        title=title,
        meta=meta,
        points=points,
        context=context,
        chart_name=chart_path.name,
        notes=notes,
    )
    report_path.write_text(report)
    print(f"\n{results_table(points)}\n")
    print("\n".join(f"note: {note}" for note in notes))
    print(f"\nReport: {report_path}\nChart:  {chart_path}")
    return report_path


def main() -> None:
    stop_servers_on_exit()
    run(LabConfig.from_env())


if __name__ == "__main__":
    main()
