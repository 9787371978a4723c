"""What every load run is asked to do and what it reports, whichever tool drives it."""

import math
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Scenario:
    """One kind of request, repeated with `{id}` in the path and body drawn from `ids`.

    Spreading the ids over the table keeps the benchmark off a single hot row, whose
    page would sit in every cache and flatter the database.
    """

    name: str
    path: str
    method: str = "GET"
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    ids: range | None = None


@dataclass(frozen=True)
class LoadSettings:
    connections: int
    seconds: float
    # A response slower than this counts as a timeout (and, with wrk, leaves the histogram).
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

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def failures(self) -> int:
        return self.non_2xx + self.errors + self.timeouts


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of already sorted values (0 for none).

    Nearest rank returns a latency some request really had, as wrk's histogram does,
    rather than an interpolation between two.
    """
    if not sorted_values:
        return 0.0
    if not 0 < p <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {p}")
    rank = math.ceil(p / 100 * len(sorted_values))
    return sorted_values[rank - 1]


def wrk_path() -> str | None:
    """wrk when installed and not turned off with BENCH_TOOL=asyncio."""
    if os.environ.get("BENCH_TOOL", "").lower() == "asyncio":
        return None
    return shutil.which("wrk")


def run_load(base_url: str, scenario: Scenario, settings: LoadSettings) -> LoadResult:
    """Drive `scenario` against `base_url` with wrk, or with our own generator without it."""
    wrk = wrk_path()
    if wrk is not None:
        from bench.wrk import run_wrk

        return run_wrk(wrk, base_url, scenario, settings)
    from bench.asyncgen import run_async_load

    return run_async_load(base_url, scenario, settings)


def tool_description() -> str:
    wrk = wrk_path()
    if wrk is not None:
        from bench.wrk import wrk_version

        return f"wrk ({wrk_version(wrk)})"
    return "bench.asyncgen (our own asyncio generator; wrk is not installed)"
