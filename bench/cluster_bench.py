"""`make bench CLUSTER=2`: throughput through HAProxy with one app host and with two, beside the
proxy's own ceiling (HAProxy answering /proxy-health itself, no host involved).

The reference deployment of deploy/ on this machine (bench.cluster): PostgreSQL (a throwaway
database on DATABASE_URL's server, seeded as `make bench` seeds), Redis, moto's S3. The same
routes run through the proxy with host_b disabled, then with both hosts; the ceiling is measured
before each configuration. Environment as `make bench` (BENCH_SECONDS, BENCH_WARMUP_SECONDS,
BENCH_CONNECTIONS, BENCH_USERS, BENCH_POSTS), plus CLUSTER (the most hosts, 2) and
CLUSTER_REDIS_URL (redis://127.0.0.1:6379/13).
"""

import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.app_bench import Config, write_scenario
from bench.cluster import SERVER_NAMES, Cluster, cluster, shared_services
from bench.db import fresh_database, migrate_and_seed, settled_post_count, table_facts
from bench.live import stop_servers_on_exit
from bench.report import markdown_table, metadata_lines, results_paths, run_metadata
from bench.wrk import LoadResult, LoadSettings, Scenario, run_load, wrk_version

DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
CEILING = "proxy ceiling: GET /proxy-health"


@dataclass(frozen=True)
class Row:
    route: str
    by_hosts: dict[int, LoadResult]


def scenarios(running: Cluster, url: str) -> dict[str, Scenario]:
    facts = table_facts(url)
    post_ids = range(facts["first_post"], facts["last_post"] + 1)
    user_ids = range(facts["first_user"], facts["last_user"] + 1)
    return {
        CEILING: Scenario("proxy", "/proxy-health"),
        "GET /health": Scenario("health", "/health"),
        "GET /api/posts/{id}": Scenario("api-post", "/api/posts/{id}", ids=post_ids),
        "GET /": Scenario("home", "/"),
        "POST /api/posts": write_scenario(running.url, user_ids),
    }


def warm_up(running: Cluster, scenario: Scenario, config: Config) -> None:
    """Fill the pools and caches of both hosts before anything is measured."""
    if config.warmup_seconds > 0:
        run_load(running.url, scenario, LoadSettings(config.connections, config.warmup_seconds))


def measure(running: Cluster, scenario: Scenario, config: Config) -> LoadResult:
    result = run_load(running.url, scenario, LoadSettings(config.connections, config.seconds))
    print(
        f"    {scenario.name:<9} {result.requests_per_s:>8,.0f} requests/s  "
        f"p50 {result.p50_ms:6.1f} ms  p99 {result.p99_ms:6.1f} ms  failures {result.failures}",
        flush=True,
    )
    return result


def run(config: Config, most_hosts: int, redis_url: str) -> Path:
    tool = wrk_version()
    meta = run_metadata(tool)
    base_url = config.database_url or DEFAULT_DATABASE_URL
    counts = list(range(1, most_hosts + 1))
    results: dict[str, dict[int, LoadResult]] = {}
    writes: dict[int, tuple[int, int]] = {}
    with (
        fresh_database(base_url) as url,
        tempfile.TemporaryDirectory(prefix="fastblog-cluster-bench-") as scratch,
    ):
        print(f"  seeding {config.users} users and {config.posts} posts")
        migrate_and_seed(url, users=config.users, posts=config.posts)
        workdir = Path(scratch)
        with (
            shared_services(url, redis_url, workdir) as shared,
            cluster(shared, workdir, hosts=most_hosts) as running,
        ):
            routes = scenarios(running, url)
            for hosts in counts:
                for index, name in enumerate(SERVER_NAMES[:most_hosts]):
                    running.proxy.set_enabled(name, index < hosts)
                for name in SERVER_NAMES[:hosts]:
                    running.proxy.wait_status(name, "UP")
                print(f"  through HAProxy to {hosts} host(s)")
                for route, scenario in routes.items():
                    warm_up(running, scenario, config)
                    before = settled_post_count(url)  # once the warm-up's writes have landed
                    results.setdefault(route, {})[hosts] = measure(running, scenario, config)
                    if scenario.method == "POST":
                        writes[hosts] = (results[route][hosts].ok, settled_post_count(url) - before)
    return publish(config, meta, counts, results, writes)


def table(counts: list[int], results: dict[str, dict[int, LoadResult]]) -> str:
    header = ["route"]
    for hosts in counts:
        header += [f"{hosts} host(s) req/s", "p50 ms", "p99 ms", "failed"]
    if len(counts) > 1:
        header.append(f"{counts[-1]} vs 1")
    rows = []
    for route, by_hosts in results.items():
        row = [route]
        for hosts in counts:
            result = by_hosts[hosts]
            row += [
                f"{result.requests_per_s:,.0f}",
                f"{result.p50_ms:.1f}",
                f"{result.p99_ms:.1f}",
                str(result.failures),
            ]
        if len(counts) > 1:
            first, last = by_hosts[counts[0]].requests_per_s, by_hosts[counts[-1]].requests_per_s
            row.append(f"{last / first:.2f}x" if first else "—")
        rows.append(row)
    return markdown_table(header, rows)


NOTES = (
    "Every request goes through HAProxy (deploy/haproxy.cfg as `make cluster` runs it); "
    "'1 host' has host_b disabled in HAProxy, its process idle. The proxy ceiling is HAProxy "
    "answering /proxy-health itself: what the proxy alone can pass on this machine.",
    "Proxy, hosts, PostgreSQL, Redis and wrk share the machine's cores, and other work ran "
    "beside this benchmark: a second host here competes with the first for the same cores, so "
    "the 2-vs-1 factor measures the method and the absence of errors, not scaling.",
)


def publish(
    config: Config,
    meta: dict[str, str],
    counts: list[int],
    results: dict[str, dict[int, LoadResult]],
    writes: dict[int, tuple[int, int]],
) -> Path:
    today = dt.date.today()
    report_path, _ = results_paths("bench", today, f"cluster{counts[-1]}")
    title = (
        f"make bench CLUSTER={counts[-1]}, {today.isoformat()}: through HAProxy, postgresql, "
        f"{config.connections} connections, {config.seconds:g} s per route"
    )
    written = "; ".join(
        f"{hosts} host(s): {acknowledged} acknowledged, {added} rows added"
        for hosts, (acknowledged, added) in writes.items()
    )
    meta = {
        **meta,
        "proxy": "HAProxy (deploy/haproxy.cfg), round-robin, checks on /ready every 1 s",
        "database": f"postgresql, {config.users} users, {config.posts} posts",
    }
    text = "\n\n".join(
        [
            f"# {title}",
            metadata_lines(meta),
            "## Results",
            table(counts, results),
            f"Writes: {written}.",
            "## Notes",
            "\n".join(f"- {note}" for note in NOTES),
        ]
    )
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.write_text(text + "\n")
    print(f"\n{table(counts, results)}\n\nWrites: {written}.\n\nReport: {report_path}")
    return report_path


def main() -> None:
    stop_servers_on_exit()
    most_hosts = int(os.environ.get("CLUSTER", "2"))
    if most_hosts not in (1, 2):
        raise SystemExit("CLUSTER is the number of app hosts: 1 or 2")
    run(Config.from_env(), most_hosts, os.environ.get("CLUSTER_REDIS_URL", DEFAULT_REDIS_URL))


if __name__ == "__main__":
    main()
