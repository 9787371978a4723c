"""The event loop's lag during a storm of searches (issue 23: under 20 ms), beside an idle
baseline taken in the same run.

    .venv/bin/python -m bench.search_storm               # SQLite, SCALE=1k
    make bench-storm SCALE=1k DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1/postgres

The server as `make run` starts it (`fastblog serve`, WORKERS=1, bench.live) on a copy of the
SCALE blog (bench.scale: seeded once and kept). The lag is the server's own: its loop-lag
monitor (fastblog.observability.loop_monitor, what /metrics and the lab show) wakes every
LOOP_LAG_INTERVAL_MS = 10 ms here and, with LOOP_LAG_WARNING_MS = 1, logs every lag of a
millisecond or more with its size. The bench reads those lines from the server's log, and the
number of samples from /metrics (the lag histogram's count), so a sample under a millisecond
counts as 0 and none is missed. First IDLE seconds with nothing asked of the server (the
machine's own stalls: on a shared machine a sleep wakes late also when the machine is busy),
then STORM seconds of wrk (CONNECTIONS connections) searching for a common word
(bench.search_words: in about 10% of the posts). Prints figures; asserts nothing.
Settings: BENCH_STORM_SECONDS (20), BENCH_IDLE_SECONDS (10), BENCH_CONNECTIONS (16), SCALE (1k).
"""

import os
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from bench.db import backend_name
from bench.live import LiveServer, live_server, stop_servers_on_exit
from bench.scale import scale_named, seeded_copy
from bench.search_words import search_words
from bench.wrk import LoadSettings, Scenario, run_load, wrk_version

SAMPLE_MS = 10
LAG_LINE = re.compile(r"Event loop blocked for (\d+) ms")
SAMPLES = re.compile(r"^fastblog_event_loop_lag_seconds_count (\S+)$", re.MULTILINE)


@dataclass(frozen=True)
class Lag:
    samples: int
    logged_ms: list[int]  # the samples of 1 ms or more; the others were under 1 ms
    cpu_share: float  # of one core, the server's process had meanwhile (user + system)

    def values(self) -> list[float]:
        return sorted([0.0] * max(self.samples - len(self.logged_ms), 0) + self.logged_ms)

    def summary(self) -> str:
        values = self.values()
        if not values:
            return "no samples"
        p99 = values[max(int(len(values) * 0.99) - 1, 0)]
        return (
            f"p50 {statistics.median(values):.0f} ms, p99 {p99:.0f} ms, max {values[-1]:.0f} ms"
            f" ({len(values)} samples, {len(self.logged_ms)} of 1 ms or more);"
            f" the server had {self.cpu_share:.0%} of a core"
        )


def samples_so_far(server: LiveServer) -> int:
    status, body = server.get("/metrics")
    if status != 200:
        raise RuntimeError(f"/metrics answered {status}")
    found = SAMPLES.search(body.decode())
    return int(float(found.group(1))) if found else 0


def cpu_seconds(pid: int) -> float:
    """The process's CPU time so far, user and system (/proc/PID/stat, fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def lag_during(server: LiveServer, work: Callable[[], None]) -> Lag:
    """The monitor's samples while `work` runs: from the log written meanwhile. How much CPU
    the server got meanwhile tells the loop's own work from a machine too busy to run it."""
    assert server.process is not None
    pid = server.process.pid  # WORKERS=1: uvicorn serves in this process
    log_start, samples_start = len(server.log()), samples_so_far(server)
    cpu_start, started = cpu_seconds(pid), time.monotonic()
    work()
    share = (cpu_seconds(pid) - cpu_start) / (time.monotonic() - started)
    logged = [int(ms) for ms in LAG_LINE.findall(server.log()[log_start:])]
    return Lag(samples_so_far(server) - samples_start, logged, share)


def load_average() -> str:
    return ", ".join(f"{n:.1f}" for n in os.getloadavg())


def main() -> None:
    stop_servers_on_exit()
    scale = scale_named(os.environ.get("SCALE") or "1k")
    storm_seconds = float(os.environ.get("BENCH_STORM_SECONDS", "20"))
    idle_seconds = float(os.environ.get("BENCH_IDLE_SECONDS", "10"))
    connections = int(os.environ.get("BENCH_CONNECTIONS", "16"))
    base_url = os.environ.get("DATABASE_URL")
    print(f"search storm: {wrk_version()}, SCALE={scale.name}, {connections} connections")
    with seeded_copy(base_url, scale) as url:
        word = search_words(url).common
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "LOOP_LAG_INTERVAL_MS": str(SAMPLE_MS),
            "LOOP_LAG_WARNING_MS": "1",
        }
        with live_server(env) as server:
            path = "/api/search?" + urlencode({"q": word})
            storm = Scenario(f"GET /api/search?q={word}", path)
            settings = LoadSettings(connections=connections, seconds=storm_seconds)
            run_load(server.url, storm, LoadSettings(connections=connections, seconds=2))  # warm
            print(f"  {backend_name(url)}, load average before: {load_average()}")
            idle = lag_during(server, lambda: time.sleep(idle_seconds))
            results = []
            during = lag_during(
                server, lambda: results.append(run_load(server.url, storm, settings))
            )
            [result] = results
    print(f"  load average after: {load_average()}")
    print(f"  loop lag, idle {idle_seconds:g} s:  {idle.summary()}")
    print(f"  loop lag, storm {storm_seconds:g} s: {during.summary()}")
    print(
        f"  the storm: {storm.name}, {result.requests_per_s:.0f} req/s, p50 {result.p50_ms:.0f} ms,"
        f" p99 {result.p99_ms:.0f} ms, {result.failures} failed of {result.requests}"
    )


if __name__ == "__main__":
    main()
