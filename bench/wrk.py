"""Run wrk with bench/wrk_report.lua and read the one line its `done` hook prints."""

import json
import math
import os
import subprocess
from pathlib import Path

from bench.load import LoadResult, LoadSettings, Scenario

LUA_SCRIPT = Path(__file__).with_name("wrk_report.lua")
RESULT_PREFIX = "wrk-result "


def wrk_version(wrk: str) -> str:
    # `wrk -v` prints its version and exits non-zero; the first line is all we need.
    done = subprocess.run([wrk, "-v"], capture_output=True, text=True, timeout=10, check=False)
    first = (done.stdout or done.stderr).strip().splitlines()
    return first[0] if first else "unknown version"


def wrk_command(wrk: str, base_url: str, scenario: Scenario, settings: LoadSettings) -> list[str]:
    # One thread by default: on a 2-core machine the other core belongs to the server.
    threads = min(int(os.environ.get("BENCH_WRK_THREADS", "1")), settings.connections)
    ids = scenario.ids
    script_args = [
        scenario.method,
        scenario.path,
        str(ids.start) if ids else "",
        str(ids.stop - 1) if ids else "",
        scenario.body or "",
        *(f"{name}: {value}" for name, value in scenario.headers.items()),
    ]
    return [
        wrk,
        f"--threads={threads}",
        f"--connections={settings.connections}",
        f"--duration={max(1, math.ceil(settings.seconds))}s",
        f"--timeout={max(1, math.ceil(settings.timeout_seconds))}s",
        f"--script={LUA_SCRIPT}",
        base_url,
        "--",
        *script_args,
    ]


def parse_wrk_output(stdout: str, *, connections: int) -> LoadResult:
    """The LoadResult in the `done` hook's line; wrk's own text report is ignored."""
    for line in stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            data = json.loads(line.removeprefix(RESULT_PREFIX))
            break
    else:
        raise ValueError(f"no {RESULT_PREFIX!r} line in wrk's output:\n{stdout[-2000:]}")
    return LoadResult(
        tool="wrk",
        connections=connections,
        duration_s=data["duration_us"] / 1e6,
        requests=data["requests"],
        ok=data["ok_2xx"],
        non_2xx=data["non_2xx"],
        errors=data["connect"] + data["read"] + data["write"],
        # wrk counts a response slower than --timeout here (it then leaves the latency
        # histogram), and every 2 s each connection still waiting longer than that.
        timeouts=data["timeout"],
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
    )


def run_wrk(wrk: str, base_url: str, scenario: Scenario, settings: LoadSettings) -> LoadResult:
    command = wrk_command(wrk, base_url, scenario, settings)
    # Bounded: wrk stops itself after --duration; the margin covers start-up and exit.
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=settings.seconds + settings.timeout_seconds + 30,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()}")
    return parse_wrk_output(done.stdout, connections=settings.connections)
