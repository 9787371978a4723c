"""The load tool: wrk, driven by bench/wrk_report.lua, and what every load run reports.

`apt-get install wrk`. One wrk thread by default (BENCH_WRK_THREADS): on two cores, the
other core is the server's. The Lua script varies `{id}` in the path and body, counts 2xx
and other statuses (wrk itself only counts statuses above 399) and prints one JSON line.
"""

import json
import math
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

LUA_SCRIPT = Path(__file__).with_name("wrk_report.lua")
RESULT_PREFIX = "wrk-result "


@dataclass(frozen=True)
class Scenario:
    """One kind of request, repeated with `{id}` in the path and body drawn from `ids`: a
    range, or a file of ids, one a line (when only some ids of a range answer, such as the
    published posts').

    Spreading the ids over the table keeps the benchmark off a single hot row, whose
    page would sit in every cache and flatter the database.
    """

    name: str
    path: str
    method: str = "GET"
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    ids: range | Path | None = None
    # This route's own number of connections, where its contract names one (the searches:
    # issue 23 asks for p95 at 16); None: the run's (BENCH_CONNECTIONS).
    connections: int | None = None


@dataclass(frozen=True)
class LoadSettings:
    connections: int
    seconds: float
    # A response slower than this counts as a timeout (and leaves wrk's latency histogram).
    timeout_seconds: float = 5.0


@dataclass(frozen=True)
class LoadResult:
    tool: str
    connections: int
    duration_s: float
    requests: int  # completed responses, whatever their status
    ok: int  # 2xx responses
    non_2xx: int
    errors: int  # socket errors: connect, read, write
    timeouts: int
    p50_ms: float
    p99_ms: float
    p95_ms: float = 0.0  # last, so results written positionally before it still read

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def failures(self) -> int:
        return self.non_2xx + self.errors + self.timeouts


def wrk_path() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed: apt-get install wrk (or brew install wrk)")
    return wrk


def wrk_version() -> str:
    # `wrk -v` prints its version and exits non-zero; the first line is all we need.
    done = subprocess.run([wrk_path(), "-v"], capture_output=True, text=True, timeout=10)
    first = (done.stdout or done.stderr).strip().splitlines()
    return f"wrk ({first[0] if first else 'unknown version'})"


def wrk_command(wrk: str, base_url: str, scenario: Scenario, settings: LoadSettings) -> list[str]:
    threads = min(int(os.environ.get("BENCH_WRK_THREADS", "1")), settings.connections)
    ids = scenario.ids
    if isinstance(ids, Path):  # the script reads the file: "@path" in place of the range
        id_args = [f"@{ids}", ""]
    else:
        id_args = [str(ids.start), str(ids.stop - 1)] if ids else ["", ""]
    script_args = [
        scenario.method,
        scenario.path,
        *id_args,
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
        p95_ms=data["p95_us"] / 1000,
    )


def run_load(base_url: str, scenario: Scenario, settings: LoadSettings) -> LoadResult:
    """One bounded run: wrk stops itself after --duration; the margin covers start and exit."""
    command = wrk_command(wrk_path(), base_url, scenario, settings)
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
