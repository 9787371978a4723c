"""CPU time per request, route by route, with the app in this process: no server, no socket,
no load tool, so what other processes do to the machine's cores barely moves the figures.

    .venv/bin/python -m bench.request_cpu [--requests 300] [--rounds 7] [--routes home,api-post]
    .venv/bin/python -m bench.request_cpu --profile home      # cProfile of one route, top 40
    .venv/bin/python -m bench.request_cpu --baseline main --instructions --requests 100

The app is `create_app()` with the settings `make run` reads (only DATABASE_URL differs), on a
SQLite copy seeded through the CLI (`fastblog seed --users 100 --posts 1000`, kept in
`.cache/bench/cpu-seed.sqlite`; `--database-url` for another database), started through its
lifespan with the collector tuned as `fastblog serve` tunes it. Each request is a prepared ASGI
scope sent straight to the app, as uvicorn would send it; `time.process_time()` counts every
thread of the process (the SQLite connections' threads included). Rounds interleave the routes
and the report gives the median round's microseconds per request, and the spread.
"""

import argparse
import asyncio
import contextlib
import cProfile
import gc
import io
import json
import os
import pstats
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from bench.app_bench import WRITE_BODY
from bench.baseline import baseline_sources, print_comparison
from bench.db import migrate_and_seed, published_post_ids
from bench.live import REPO_ROOT
from bench.tag_routes import most_used
from fastblog.cli import YOUNG_GC_THRESHOLD
from fastblog.config import Settings
from fastblog.main import create_app
from fastblog.seed import DEMO_PASSWORD

SEED_USERS, SEED_POSTS = 100, 1_000
COMMENTS_ON_ONE_POST = 50
CACHED_SEED = REPO_ROOT / ".cache" / "bench" / "cpu-seed.sqlite"
# The background loops' passes (outbox, newsletter, scheduled posts, digests, the loop-lag
# monitor) are not any request's work: spaced out so that none lands among the counted
# requests (under callgrind, ~50 times slower, one would land in every route's count).
QUIET_BACKGROUND = {
    "OUTBOX_POLL_SECONDS": "3600",
    "NOTIFICATION_DIGEST_POLL_SECONDS": "3600",
    "POST_SCHEDULE_POLL_SECONDS": "3600",
    "FEDERATION_POLL_SECONDS": "3600",
    "LOOP_LAG_INTERVAL_MS": "1000",
    "LOOP_LAG_WARNING_MS": "100000",
}
BROWSER_HEADERS = [(b"accept", b"text/html"), (b"accept-encoding", b"identity")]


@dataclass
class Route:
    name: str
    method: str
    paths: list[str]  # drawn in turn, one a request
    body: bytes = b""
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    status: int = 200


class AsgiCaller:
    """Requests as uvicorn hands them to the app: a scope, one body message, a send that keeps
    only the status (and the body, when asked)."""

    def __init__(self, app: FastAPI, state: dict[str, Any]) -> None:
        self.app = app
        self.state = state

    async def __call__(
        self, route: Route, path: str, *, keep_body: bool = False
    ) -> tuple[int, bytes]:
        path_only, _, query = path.partition("?")
        headers = [
            (b"host", b"127.0.0.1:8000"),
            (b"user-agent", b"request-cpu"),
            *route.headers,
        ]
        if route.body:
            headers.append((b"content-length", str(len(route.body)).encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "server": ("127.0.0.1", 8000),
            "client": ("127.0.0.1", 40000),
            "scheme": "http",
            "method": route.method,
            "root_path": "",
            "path": path_only,
            "raw_path": path_only.encode(),
            "query_string": query.encode(),
            "headers": headers,
            "state": self.state.copy(),  # as uvicorn: a shallow copy of the lifespan's state
        }
        sent_body = False
        status = 0
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent_body
            if not sent_body:
                sent_body = True
                return {"type": "http.request", "body": route.body, "more_body": False}
            await asyncio.Event().wait()  # a client that stays connected
            raise AssertionError("unreachable")

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif keep_body and message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, b"".join(chunks)


def cached_seed() -> None:
    """Seed the cached database through the CLI, unless an earlier run did. Not thread-safe:
    `compare` calls it once before its sides start (two seeding one file at once: "database
    is locked")."""
    if CACHED_SEED.exists():
        return
    CACHED_SEED.parent.mkdir(parents=True, exist_ok=True)
    partial = CACHED_SEED.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    migrate_and_seed(f"sqlite+aiosqlite:///{partial}", users=SEED_USERS, posts=SEED_POSTS)
    partial.rename(CACHED_SEED)


def seeded_copy(folder: Path) -> str:
    """A copy of the cached seed (made once through the CLI) in `folder`."""
    cached_seed()
    copy = folder / "cpu.sqlite"
    shutil.copyfile(CACHED_SEED, copy)
    url = f"sqlite+aiosqlite:///{copy}"
    migrate_and_seed(url, users=0, posts=0)  # to the latest migration, as `make run` would
    return url


@contextlib.asynccontextmanager
async def started(settings: Settings) -> AsyncIterator[AsgiCaller]:
    app = create_app(settings)
    async with app.router.lifespan_context(app) as state:
        # As `fastblog serve` leaves the collector (fastblog.cli.tune_gc_after_startup).
        gc.collect()
        gc.freeze()
        gc.set_threshold(YOUNG_GC_THRESHOLD, *gc.get_threshold()[1:])
        yield AsgiCaller(app, dict(state or {}))


async def prepare_routes(caller: AsgiCaller, url: str, wanted: set[str] | None) -> list[Route]:
    ids = [str(i) for i in await asyncio.to_thread(published_post_ids, url, 2_000)]
    rng = random.Random(7)
    rng.shuffle(ids)
    transport = httpx.ASGITransport(app=_with_state(caller))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
        middle = ids[len(ids) // 2]
        slug = (await client.get(f"/api/posts/{middle}")).json()["slug"]
        commented = ids[len(ids) // 2 + 1]
        commented_slug = (await client.get(f"/api/posts/{commented}")).json()["slug"]
        token = (
            await client.post(
                "/api/users/token",
                data={"username": "writer2@example.com", "password": DEMO_PASSWORD},
            )
        ).json()["access_token"]
        auth = (b"authorization", f"Bearer {token}".encode())
        if wanted is None or "commented" in wanted:
            await comment_on(client, commented, f"Bearer {token}")
    # The post `make bench` writes (issue 23's POST /api/posts): 392 characters, rendered in
    # the request's own process (fastblog.posts.service.INLINE_RENDER_MAX_CHARS).
    tag_paths = {"tag-page": [], "user-tag": []}
    if wanted is None or wanted & tag_paths.keys():
        tag, writer = await most_used(url)  # the tag routes of `make bench` (bench.tag_routes)
        tag_paths = {
            "tag-page": [f"/tags/{tag}"],
            "user-tag": [f"/api/users/{writer}/posts?tag={tag}"],
        }
    content = json.loads(WRITE_BODY)["content"]
    post_body = json.dumps({"title": "CPU", "content": content, "tags": ["cpu"]})
    routes = [
        Route("health", "GET", ["/health"]),
        Route("api-post", "GET", [f"/api/posts/{i}" for i in ids]),
        Route("api-list", "GET", ["/api/posts?limit=20"]),
        Route("api-tags", "GET", ["/api/tags"]),  # 100 of the seed's ~200 tags
        Route("home", "GET", ["/"], headers=BROWSER_HEADERS),
        Route("tag-page", "GET", tag_paths["tag-page"], headers=BROWSER_HEADERS),
        Route("user-tag", "GET", tag_paths["user-tag"]),
        Route("post-page", "GET", [f"/posts/{middle}/{slug}"], headers=BROWSER_HEADERS),
        Route(
            "commented", "GET", [f"/posts/{commented}/{commented_slug}"], headers=BROWSER_HEADERS
        ),
        Route("site-feed", "GET", ["/feed.xml"]),
        Route(
            "create-post",
            "POST",
            ["/api/posts"],
            body=post_body.encode(),
            headers=[auth, (b"content-type", b"application/json")],
            status=201,
        ),
    ]
    return [route for route in routes if wanted is None or route.name in wanted]


async def comment_on(client: httpx.AsyncClient, post_id: str, authorization: str) -> None:
    """Fifty comments, unless an earlier run on this copy left them."""
    listing = (await client.get(f"/api/posts/{post_id}/comments?limit=100")).json()
    have = len(listing.get("comments", listing) if isinstance(listing, dict) else listing)
    for n in range(have, COMMENTS_ON_ONE_POST):
        body = f"Comment {n + 1}: *thanks* for [this](https://example.com), `await` it."
        response = await client.post(
            f"/api/posts/{post_id}/comments",
            json={"body": body},
            headers={"Authorization": authorization},
        )
        response.raise_for_status()


def _with_state(caller: AsgiCaller) -> Callable[..., Any]:
    """The app with the lifespan's state in each scope (httpx's transport runs no lifespan)."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        scope["state"] = caller.state.copy()
        await caller.app(scope, receive, send)

    return app


async def cpu_per_request(caller: AsgiCaller, route: Route, count: int) -> float:
    """Microseconds of process CPU per request over `count` requests, one at a time."""
    start = time.process_time()
    await send_requests(caller, route, count)
    return (time.process_time() - start) / count * 1e6


async def send_requests(caller: AsgiCaller, route: Route, count: int) -> None:
    paths = route.paths
    for n in range(count):
        status, _ = await caller(route, paths[n % len(paths)])
        if status != route.status:
            raise RuntimeError(f"{route.method} {paths[n % len(paths)]} answered {status}")


async def settled() -> None:
    """Until the process is idle: start-up's work in threads (the Markdown warm-up) would
    otherwise count in the first route's figures."""
    for _ in range(20):
        start = time.process_time()
        await asyncio.sleep(0.25)
        if time.process_time() - start < 0.005:
            return


async def measure(
    caller: AsgiCaller, routes: list[Route], count: int, rounds: int
) -> dict[str, list[float]]:
    await settled()
    for route in routes:  # warm: templates compiled, statements cached, pools filled
        await send_requests(caller, route, max(count // 5, 20))
    samples: dict[str, list[float]] = {route.name: [] for route in routes}
    for _ in range(rounds):
        for route in routes:
            samples[route.name].append(await cpu_per_request(caller, route, count))
    return samples


async def count_instructions(caller: AsgiCaller, routes: list[Route], count: int) -> None:
    """Under callgrind (started with --instr-atstart=no): instructions are counted only while
    a route's requests run, and dumped under the route's name for the parent to read."""
    await settled()
    for route in routes:
        await send_requests(caller, route, max(count // 5, 20))
        await callgrind_control("--instr=on")
        await send_requests(caller, route, count)
        await callgrind_control(f"--dump={route.name}")
        await callgrind_control("--instr=off")


async def callgrind_control(option: str) -> None:
    process = await asyncio.create_subprocess_exec(
        "callgrind_control", option, str(os.getpid()), stdout=asyncio.subprocess.DEVNULL
    )
    if await process.wait() != 0:
        raise RuntimeError(f"callgrind_control {option} failed: is this process under callgrind?")


def instructions_per_request(args: argparse.Namespace, env: dict[str, str]) -> dict[str, float]:
    """Millions of instructions per request, route by route: exact and unmoved by the load of
    the machine (but blind to cache misses), at ~50 times the time. The database is seeded
    outside valgrind."""
    with tempfile.TemporaryDirectory(prefix="fastblog-cpu-") as folder:
        url = args.database_url or seeded_copy(Path(folder))
        command = [
            *("valgrind", "--tool=callgrind", "--instr-atstart=no"),
            f"--callgrind-out-file={folder}/callgrind.out",
            *(sys.executable, "-m", "bench.request_cpu", "--under-callgrind"),
            *(f"--database-url={url}", f"--requests={args.requests}"),
            *([f"--routes={args.routes}"] if args.routes else []),
        ]
        subprocess.run(command, cwd=REPO_ROOT, env=env, check=True, stderr=subprocess.DEVNULL)
        counts: dict[str, float] = {}
        for dump in Path(folder).glob("callgrind.out.*"):
            text = dump.read_text(errors="replace")
            trigger = re.search(r"^desc: Trigger: dump (\S+)", text, re.MULTILINE)
            totals = re.search(r"^totals: (\d+)", text, re.MULTILINE)
            if trigger and totals:
                counts[trigger.group(1)] = int(totals.group(1)) / args.requests / 1e6
        return counts


def print_samples(samples: dict[str, list[float]]) -> None:
    print(f"{'route':<12} {'us/request':>10}  {'min-max of rounds':>18}")
    for name, values in samples.items():
        print(
            f"{name:<12} {statistics.median(values):>10.0f}  "
            f"{min(values):>8.0f}-{max(values):<8.0f}"
        )


async def profile(caller: AsgiCaller, route: Route, count: int, top: int) -> None:
    await cpu_per_request(caller, route, max(count // 5, 20))
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    await cpu_per_request(caller, route, count)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    print(out.getvalue())


def compare(args: argparse.Namespace) -> None:
    """This tree against `args.baseline` (a git revision), in alternating processes: drift in
    the machine's load reaches both alike. The baseline's `src/` goes first on PYTHONPATH
    (bench.baseline); both use this venv, this script and its database."""
    figures: dict[str, dict[str, list[float]]] = {"baseline": {}, "this": {}}
    if not args.database_url:
        cached_seed()  # once, before two sides (--instructions: at once) copy it
    with baseline_sources(args.baseline) as (base, baseline_env):
        environments = {"baseline": baseline_env, "this": dict(os.environ)}
        for pair in range(args.pairs):
            order = ("baseline", "this") if pair % 2 == 0 else ("this", "baseline")
            # Instructions are counted exactly whatever runs beside them: both sides at once.
            with ThreadPoolExecutor(max_workers=2 if args.instructions else 1) as pool:
                runs = {
                    side: pool.submit(one_process, args, environments[side], base / f"{side}.json")
                    for side in order
                }
            for side, run in runs.items():
                for name, value in run.result().items():
                    figures[side].setdefault(name, []).append(value)
    unit = "M instructions" if args.instructions else "CPU us"
    heading = f"\n{unit} per request, median of {args.pairs} process(es) a side"
    digits = 2 if args.instructions else 0
    print_comparison(figures, baseline=args.baseline, heading=heading, label="route", digits=digits)


def one_process(args: argparse.Namespace, env: dict[str, str], out: Path) -> dict[str, float]:
    """One measuring process with `env`: each route's instructions, or its median CPU time."""
    if args.instructions:
        return instructions_per_request(args, env)
    command = [
        *(sys.executable, "-m", "bench.request_cpu", f"--json={out}"),
        *(f"--requests={args.requests}", f"--rounds={args.rounds}"),
        *([f"--routes={args.routes}"] if args.routes else []),
        *([f"--database-url={args.database_url}"] if args.database_url else []),
    ]
    subprocess.run(command, cwd=REPO_ROOT, env=env, check=True)
    return {name: statistics.median(v) for name, v in json.loads(out.read_text()).items()}


async def run(args: argparse.Namespace, url: str, folder: Path) -> None:
    wanted = (
        {args.profile} if args.profile else set(args.routes.split(",")) if args.routes else None
    )
    settings = Settings(database_url=url, media_dir=folder / "media")
    async with started(settings) as caller:
        routes = await prepare_routes(caller, url, wanted)
        if args.under_callgrind:
            await count_instructions(caller, routes, args.requests)
            return
        if args.profile:
            await profile(caller, routes[0], args.requests, args.top)
            return
        samples = await measure(caller, routes, args.requests, args.rounds)
    print_samples(samples)
    if args.json:
        args.json.write_text(json.dumps(samples))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="per route and round")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--routes", help="comma-separated names; all by default")
    parser.add_argument("--profile", metavar="ROUTE", help="cProfile one route instead")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--database-url", help="an already seeded database (it gets comments)")
    parser.add_argument("--json", type=Path, help="write each round's figures there too")
    parser.add_argument("--baseline", metavar="REV", help="compare with this git revision")
    parser.add_argument("--pairs", type=int, default=3, help="processes a side (--baseline)")
    parser.add_argument(
        "--instructions", action="store_true", help="count instructions under callgrind instead"
    )
    parser.add_argument("--under-callgrind", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("WRITE_RATE_LIMITS", "false")  # one writer at full speed
    for name, value in QUIET_BACKGROUND.items():
        os.environ.setdefault(name, value)
    if args.baseline:
        compare(args)
        return
    if args.instructions:
        for name, millions in instructions_per_request(args, dict(os.environ)).items():
            print(f"{name:<12} {millions:>8.2f} M instructions per request")
        return
    with tempfile.TemporaryDirectory(prefix="fastblog-cpu-") as folder:
        url = args.database_url or seeded_copy(Path(folder))
        asyncio.run(run(args, url, Path(folder)))


if __name__ == "__main__":
    main()
