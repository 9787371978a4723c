import pytest

from bench.lab_report import LabPoint, claim, render_report
from bench.wrk import LoadResult

WAIT_S = 0.1


def point(mode: str, concurrency: int, rps: float, service_s: float = WAIT_S) -> LabPoint:
    requests = int(rps * 5)
    result = LoadResult("wrk", concurrency, 5.0, requests, requests, 0, 0, 0, 100.0, 150.0)
    return LabPoint(mode, concurrency, result, concurrency / service_s, service_s)


def test_in_flight_follows_littles_law() -> None:
    assert point("sync", 200, 400).in_flight == pytest.approx(40)


def test_async_near_ideal_holds() -> None:
    points = [point("async", 10, 99), point("async", 200, 1800)]

    statement, evidence, held = claim("async", points, {})

    assert statement == "near the ideal at 200 connections"
    assert evidence == "0.90 of it"
    assert held


def test_fetch_needs_half_the_ideal_and_shows_the_async_mode_beside_it() -> None:
    points = [point("fetch", 200, 1100)]

    statement, evidence, held = claim("fetch", points, {"async_rps_max": 1500})

    assert statement == "at least half the ideal at 200 connections"
    assert evidence == "0.55 of it (1,100 requests/s; the async mode, no client at all, made 1,500)"
    assert held
    assert not claim("fetch", [point("fetch", 200, 900)], {})[2]


def test_sync_plateau_is_judged_at_the_highest_concurrency() -> None:
    plateau = [point("sync", 10, 99), point("sync", 200, 400)]
    no_plateau = [point("sync", 10, 99), point("sync", 200, 1900)]

    assert claim("sync", plateau, {})[2]
    assert not claim("sync", no_plateau, {})[2]


def test_blocking_collapse() -> None:
    assert claim("blocking", [point("blocking", 200, 9.8)], {})[2]
    assert not claim("blocking", [point("blocking", 200, 50)], {})[2]


def test_process_pool_must_beat_inline() -> None:
    points = [point("cpu-process", 200, 18, service_s=0.05)]

    assert claim("cpu-process", points, {"inline_rps_max": 10})[2]
    assert not claim("cpu-process", points, {"inline_rps_max": 17})[2]


def test_gather_takes_the_longer_call_not_the_sum() -> None:
    points = [point("concurrent", 10, 95)]

    assert claim("concurrent", points, {"gather_elapsed_ms": 104, "wait_ms": 100})[2]
    assert not claim("concurrent", points, {"gather_elapsed_ms": 201, "wait_ms": 100})[2]


def test_pool_cap() -> None:
    capped = [point("db-pool", 200, 195)]

    statement, _, held = claim("db-pool", capped, {"pool_capacity": 20})

    assert statement == "it is capped at pool size ÷ wait = 200 requests/s"
    assert held
    assert not claim("db-pool", [point("db-pool", 200, 900)], {"pool_capacity": 20})[2]


def test_report_has_a_sentence_per_family_and_says_when_a_claim_fails() -> None:
    points = [point("async", 10, 99), point("async", 200, 600), point("blocking", 200, 9.9)]

    report = render_report(
        title="lab",
        meta={"load generator": "wrk"},
        points=points,
        context={"wait_ms": 100},
        chart_name="lab.png",
        notes=["n=1000"],
    )

    assert report.count("**async**") == 1
    assert report.count("**blocking**") == 1
    assert "Verdict: does NOT hold on this run." in report  # async at 0.30 of the ideal
    assert "Verdict: holds." in report
    assert "| blocking" in report
