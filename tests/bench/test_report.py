import datetime as dt
from pathlib import Path

from bench.app_bench import Measurements, targets_for, variant_name
from bench.app_report import RouteResult, WriteCheck, render_report
from bench.charts import route_bars, throughput_lines
from bench.report import markdown_table, results_paths
from bench.scale import SCALES
from bench.wrk import LoadResult


def result(
    rps: float, *, p95_ms: float = 15.0, p99_ms: float = 20.0, non_2xx: int = 0
) -> LoadResult:
    return LoadResult("wrk", 64, 10.0, int(rps * 10), int(rps * 10) - non_2xx, non_2xx, 0, 0,
                      5.0, p99_ms, p95_ms=p95_ms)  # fmt: skip


def test_route_passes_when_it_meets_every_bar() -> None:
    row = RouteResult("GET /api/posts/{id}", result(3000), ceiling_rps=8000, target=0.30)

    assert row.ratio == 0.375
    assert row.verdict == "pass"


def test_route_lists_every_shortfall() -> None:
    row = RouteResult("GET /", result(400, p99_ms=300, non_2xx=2), ceiling_rps=8000, target=0.10)

    assert row.verdict == "FAIL: ratio < 0.10, p99 ≥ 60 ms, 2 failed requests"


def test_only_reads_have_a_latency_bar() -> None:
    slow = result(400, p99_ms=300)
    assert RouteResult("POST /api/posts", slow, 8000, None).verdict == "pass"
    assert RouteResult("GET /posts/{id}", slow, 8000, None).verdict == "FAIL: p99 ≥ 60 ms"


def test_route_without_target_is_judged_on_latency_and_failures() -> None:
    assert RouteResult("GET /posts/{id}", result(10), 8000, None).verdict == "pass"


def test_a_route_with_a_p95_contract_is_judged_by_it_not_by_the_p99_bar() -> None:
    search = "GET /api/search?q={rare word}"
    within = result(90, p95_ms=80, p99_ms=300)
    assert RouteResult(search, within, 8000, None, p95_limit_ms=100).verdict == "pass"
    beyond = result(90, p95_ms=120, p99_ms=300)
    assert RouteResult(search, beyond, 8000, None, p95_limit_ms=100).verdict == "FAIL: p95 ≥ 100 ms"


def test_at_scale_the_targets_are_issue_23s_per_database() -> None:
    assert targets_for("sqlite", None)["GET /api/posts/{id}"] == 0.30
    assert targets_for("sqlite", SCALES["1m"])["GET /api/posts/{id}"] == 0.45
    assert targets_for("postgresql", SCALES["1k"])["GET /api/posts/{id}"] == 0.35
    assert targets_for("postgresql", SCALES["1m"])["POST /api/posts"] == 0.12


def test_write_check_tells_lost_from_in_flight() -> None:
    assert "LOST" in WriteCheck(acknowledged=100, rows_added=99).describe()
    assert "plus 5 in flight" in WriteCheck(acknowledged=100, rows_added=105).describe()
    assert WriteCheck(acknowledged=100, rows_added=100).describe().endswith("all stored")


def test_markdown_table_pads_columns() -> None:
    table = markdown_table(["route", "ratio"], [["GET /", "0.1"], ["POST /api/posts", "0.08"]])

    lines = table.splitlines()
    assert len({len(line) for line in lines}) == 1
    assert lines[1].startswith("|---")


def test_report_holds_table_checks_and_chart() -> None:
    rows = [RouteResult("GET /", result(900), 9000, 0.10)]

    report = render_report(
        title="make bench",
        meta={"load generator": "wrk"},
        rows=rows,
        ceiling_runs=[result(8800), result(9200)],
        write_check=WriteCheck(10, 10),
        peak_rss={"app": [100 * 2**20]},
        chart_name="bench-x.png",
        notes=["a note"],
    )

    assert "| GET /" in report
    assert "8,800, 9,200 requests/s" in report
    assert "10 posts acknowledged with 2xx, 10 rows added: all stored" in report
    assert "![requests per second by route](bench-x.png)" in report
    assert "- app: 100 MiB" in report
    assert "- a note" in report


def test_variant_names_only_what_differs_from_the_reference() -> None:
    assert variant_name("sqlite", 1) == ""
    assert variant_name("postgresql", 1) == "postgresql"
    assert variant_name("sqlite", 2) == "w2"
    assert variant_name("postgresql", 1, SCALES["1m"]) == "postgresql-1m"
    assert variant_name("sqlite", 1, SCALES["1k"]) == "1k"


def test_charts_are_png_files(tmp_path: Path) -> None:
    bars, lines = tmp_path / "bars.png", tmp_path / "lines.png"

    route_bars(bars, title="t", labels=["GET /"], requests_per_s=[900.0], ratios=[0.1],
               target_rps=[900.0], ceiling_rps=9000.0)  # fmt: skip
    throughput_lines(lines, title="t", series={"async": ([10, 50], [95.0, 480.0])})

    for chart in (bars, lines):
        assert chart.read_bytes().startswith(b"\x89PNG")


def test_each_route_is_compared_with_the_ceiling_around_it() -> None:
    measured = Measurements(
        results={"GET /": result(100), "POST /api/posts": result(50)},
        ceiling_runs=[result(9000), result(7000), result(3000)],
        write_check=WriteCheck(1, 1),
        peak_rss={},
    )

    assert measured.bracketing_ceiling(0) == 8000
    assert measured.bracketing_ceiling(1) == 5000


def test_a_route_with_no_response_fails() -> None:
    silent = LoadResult("wrk", 16, 5.0, 0, 0, 0, 0, 0, 0.0, 0.0)
    assert RouteResult("GET /api/search", silent, 4000, None).verdict == (
        "FAIL: no response within the run"
    )


def test_a_second_report_of_the_day_is_written_beside_the_first(tmp_path: Path) -> None:
    day = dt.date(2026, 12, 7)
    first, first_chart = results_paths("bench", day, "postgresql-1m", folder=tmp_path)
    assert (first.name, first_chart.name) == (
        "bench-2026-12-07-postgresql-1m.md",
        "bench-2026-12-07-postgresql-1m.png",
    )
    first.write_text("the morning's figures")
    second, second_chart = results_paths("bench", day, "postgresql-1m", folder=tmp_path)
    assert (second.name, second_chart.name) == (
        "bench-2026-12-07-postgresql-1m-2.md",
        "bench-2026-12-07-postgresql-1m-2.png",
    )
    second.write_text("the evening's")
    assert results_paths("bench", day, "postgresql-1m", folder=tmp_path)[0].name.endswith("-3.md")
    assert first.read_text() == "the morning's figures"
