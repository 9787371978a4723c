"""The `make bench-lab` report: one row per mode and concurrency, one sentence per family.

Each family states why it behaves as it does, then what this run measured, then whether
issue 4's claim held here. The claim is checked on the numbers, never assumed.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from bench.report import markdown_table, metadata_lines
from bench.wrk import LoadResult


@dataclass(frozen=True)
class LabPoint:
    mode: str
    concurrency: int
    result: LoadResult
    ideal_rps: float
    service_s: float  # how long one request waits or computes, alone

    @property
    def ratio(self) -> float:
        return self.result.requests_per_s / self.ideal_rps if self.ideal_rps else 0.0

    @property
    def in_flight(self) -> float:
        """Requests being served at once, by Little's law: throughput x time each."""
        return self.result.requests_per_s * self.service_s


WHY = {
    "async": "`async def` + `await asyncio.sleep`: each await hands the event loop to another "
    "request, so requests that only wait overlap and throughput grows with concurrency until "
    "the CPU, not the waiting, is the limit.",
    "sync": "A `def` route runs in AnyIO's thread pool (40 threads unless the lab sizes it): at "
    "most that many requests sleep at once, so throughput plateaus at pool size ÷ wait.",
    "blocking": "`time.sleep` inside `async def` never yields: the single event loop sleeps for "
    "each request in turn, so throughput collapses to 1 ÷ wait whatever the concurrency, and "
    "every other route of the process waits too.",
    "to-thread": "`asyncio.to_thread` takes the blocking call off the loop but onto the default "
    "executor, min(32, cores + 4) threads unless the lifespan sizes it, so throughput is capped "
    "at executor size ÷ wait.",
    "cpu-inline": "CPU-bound work on the loop holds it for the whole computation and the GIL "
    "lets one thread compute at a time, so concurrency only adds queueing: throughput stays at "
    "1 ÷ CPU time.",
    "cpu-process": "A process pool computes in other interpreters, each with its own GIL, so "
    "one call per core runs at once: throughput approaches cores ÷ CPU time, minus the cores "
    "the server and the load generator need.",
    "fetch": "One shared `aiohttp.ClientSession` awaits the upstream (bench/upstream.py, a "
    "process of its own) like any other I/O, so fetches overlap like the async sleep; the "
    "client's CPU per call and the app's own work per request cap it.",
    "concurrent": "`asyncio.gather` awaits both upstream calls at once, so a request lasts about "
    "as long as the longer call, not the sum of both.",
    "db-pool": "Each request holds a pooled connection for the whole query, so however many "
    "requests wait, at most the pool's size are in the database: throughput is capped at "
    "pool size ÷ query time.",
}


def _by_concurrency(points: Sequence[LabPoint]) -> list[LabPoint]:
    return sorted(points, key=lambda point: point.concurrency)


def claim(
    mode: str, points: Sequence[LabPoint], context: dict[str, float]
) -> tuple[str, str, bool]:
    """Issue 4's claim for `mode`, this run's evidence, and whether the claim held.

    `context` carries what the run learnt besides the load: `inline_rps_max` (the CPU
    inline mode's best), `async_rps_max` (the async mode's at the highest concurrency),
    `pool_capacity`, `gather_elapsed_ms` and `wait_ms`.
    """
    high = _by_concurrency(points)[-1]
    rps, c = high.result.requests_per_s, high.concurrency
    if mode == "async":
        return f"near the ideal at {c} connections", f"{high.ratio:.2f} of it", high.ratio >= 0.8
    if mode == "fetch":
        # The app's own async mode, same run and concurrency: what the app can serve at all.
        floor = context.get("async_rps_max", 0.0)
        beside = f"; the async mode, no client at all, made {floor:,.0f}" if floor else ""
        return (
            f"at least half the ideal at {c} connections",
            f"{high.ratio:.2f} of it ({rps:,.0f} requests/s{beside})",
            high.ratio >= 0.5,
        )
    if mode in {"sync", "to-thread"}:
        return (
            "throughput plateaus at the pool's size ÷ wait",
            f"≈{high.in_flight:.0f} requests in flight at {c} connections, {rps:,.0f} requests/s",
            high.in_flight < 0.6 * c,
        )
    if mode == "blocking":
        limit = 1 / high.service_s
        return (
            f"it collapses to 1 ÷ wait = {limit:.0f} requests/s",
            f"{rps:.1f} at {c} connections",
            rps <= 1.5 * limit,
        )
    if mode == "cpu-inline":
        limit = 1 / high.service_s
        return (
            f"it stays at 1 ÷ CPU time = {limit:.1f} requests/s",
            f"{rps:.1f} at {c} connections",
            rps <= 1.3 * limit,
        )
    if mode == "cpu-process":
        inline = context.get("inline_rps_max", 0.0)
        speedup = rps / inline if inline else 0.0
        return (
            "it uses more than one core",
            f"{speedup:.2f}x the inline mode's best",
            speedup >= 1.3,
        )
    if mode == "concurrent":
        elapsed, wait = context.get("gather_elapsed_ms", 0.0), context["wait_ms"]
        return (
            "a request takes about the longer call, not the sum",
            f"one request alone took {elapsed:.0f} ms for two calls of at most {wait:.0f} ms "
            f"each (one after the other: up to {2 * wait:.0f} ms)",
            0 < elapsed < 1.25 * wait,
        )
    if mode == "db-pool":
        capacity = context.get("pool_capacity", 0.0)
        return (
            f"it is capped at pool size ÷ wait = {capacity / high.service_s:,.0f} requests/s",
            f"{rps:,.0f} with ≈{high.in_flight:.0f} queries in flight at {c} connections",
            high.in_flight <= 1.25 * capacity,
        )
    raise ValueError(f"no claim for mode {mode!r}")


def family_sentence(mode: str, points: Sequence[LabPoint], context: dict[str, float]) -> str:
    measured = ", ".join(
        f"{p.result.requests_per_s:,.1f} at {p.concurrency} ({p.ratio:.2f} of ideal)"
        for p in _by_concurrency(points)
    )
    statement, evidence, held = claim(mode, points, context)
    verdict = "holds" if held else "does NOT hold on this run"
    return (
        f"**{mode}**: {WHY[mode]} Measured requests/s: {measured}. "
        f"Claim: {statement}. Evidence: {evidence}. Verdict: {verdict}."
    )


TABLE_HEADER = (
    "mode",
    "concurrency",
    "requests/s",
    "p50 ms",
    "p99 ms",
    "errors",
    "ideal requests/s",
    "ratio to ideal",
    "in flight",
)


def results_table(points: Sequence[LabPoint]) -> str:
    rows = [
        [
            p.mode,
            str(p.concurrency),
            f"{p.result.requests_per_s:,.1f}",
            f"{p.result.p50_ms:,.0f}",
            f"{p.result.p99_ms:,.0f}",
            f"{p.result.failures}",
            f"{p.ideal_rps:,.0f}",
            f"{p.ratio:.3f}",
            f"{p.in_flight:.1f}",
        ]
        for p in points
    ]
    return markdown_table(TABLE_HEADER, rows)


def render_report(
    *,
    title: str,
    meta: dict[str, str],
    points: Sequence[LabPoint],
    context: dict[str, float],
    chart_name: str,
    notes: Sequence[str],
) -> str:
    modes = list(dict.fromkeys(p.mode for p in points))
    sentences = [family_sentence(m, [p for p in points if p.mode == m], context) for m in modes]
    sections = [
        f"# {title}",
        metadata_lines(meta),
        "## Results",
        results_table(points),
        "Ideal: concurrency ÷ wait for the waiting modes; min(concurrency, cores) ÷ CPU time "
        "for the CPU modes. In flight: requests/s x the time one request takes alone "
        "(Little's law), i.e. how many requests the mode really served at once. Errors: "
        "non-2xx + socket errors + timeouts.",
        f"![requests/s against concurrency]({chart_name})",
        "## What each result shows",
        "\n\n".join(sentences),
    ]
    if notes:
        sections += ["## Notes", "\n".join(f"- {note}" for note in notes)]
    return "\n\n".join(sections) + "\n"
