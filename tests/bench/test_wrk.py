from pathlib import Path

import pytest

from bench.wrk import LUA_SCRIPT, LoadResult, LoadSettings, Scenario, parse_wrk_output, wrk_command

WRK_STDOUT = """\
Running 10s test @ http://127.0.0.1:40123
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    12.30ms    3.10ms  80.00ms   90.00%
  52000 requests in 10.00s, 30.00MB read
  Non-2xx or 3xx responses: 3
Requests/sec:   5200.00
Transfer/sec:      3.00MB
wrk-result {"duration_us": 10000000, "requests": 52000, "ok_2xx": 51990, "non_2xx": 10, \
"connect": 1, "read": 2, "write": 3, "status": 3, "timeout": 4, "p50_us": 11800, \
"p95_us": 20500, "p99_us": 31250}
"""


def test_parse_reads_the_done_hook_line() -> None:
    result = parse_wrk_output(WRK_STDOUT, connections=64)

    assert result.tool == "wrk"
    assert result.requests == 52000
    assert result.requests_per_s == pytest.approx(5200)
    assert (result.ok, result.non_2xx) == (51990, 10)
    assert result.errors == 1 + 2 + 3  # connect + read + write
    assert result.timeouts == 4
    assert result.p50_ms == pytest.approx(11.8)
    assert result.p95_ms == pytest.approx(20.5)
    assert result.p99_ms == pytest.approx(31.25)
    assert result.failures == 10 + 6 + 4


def test_parse_refuses_output_without_the_hook_line() -> None:
    with pytest.raises(ValueError, match="wrk-result"):
        parse_wrk_output("Requests/sec: 5200.00\n", connections=64)


def test_command_passes_the_scenario_to_the_lua_script() -> None:
    scenario = Scenario(
        "create",
        "/api/posts",
        "POST",
        body='{"user_id": {id}}',
        headers={"Content-Type": "application/json", "Authorization": "Bearer abc"},
        ids=range(1, 101),
    )

    command = wrk_command("wrk", "http://127.0.0.1:4000", scenario, LoadSettings(64, 2.5))

    assert f"--script={LUA_SCRIPT}" in command
    assert "--connections=64" in command
    assert "--duration=3s" in command  # whole seconds, rounded up: never shorter than asked
    script_args = command[command.index("--") + 1 :]
    assert script_args == [
        "POST",
        "/api/posts",
        "1",
        "100",  # the highest id, inclusive, as Lua's math.random takes it
        '{"user_id": {id}}',
        "Content-Type: application/json",
        "Authorization: Bearer abc",
    ]


def test_command_without_ids_leaves_the_range_empty() -> None:
    command = wrk_command("wrk", "http://127.0.0.1:4000", Scenario("home", "/"), LoadSettings(8, 1))

    assert command[command.index("--") + 1 :] == ["GET", "/", "", "", ""]


def test_result_rate_and_failures() -> None:
    result = LoadResult("wrk", 64, 2.0, 1000, 990, 4, 3, 3, 1.0, 2.0)

    assert result.requests_per_s == 500
    assert result.failures == 10


def test_command_names_a_file_of_ids_for_the_script_to_draw_from(tmp_path: Path) -> None:
    ids = tmp_path / "published.txt"
    ids.write_text("3\n7\n")
    scenario = Scenario("api-post", "/api/posts/{id}", ids=ids)

    command = wrk_command("wrk", "http://127.0.0.1:4000", scenario, LoadSettings(8, 1))

    assert command[command.index("--") + 1 :] == ["GET", "/api/posts/{id}", f"@{ids}", "", ""]
