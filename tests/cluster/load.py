"""Readers and writers through the proxy, for a bounded time, remembering every answer; and a
watch on what HAProxy says of each host meanwhile (its stats socket, every 100 ms)."""

import asyncio
import contextlib
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx
from sqlalchemy import pool, select
from sqlalchemy.ext.asyncio import create_async_engine

from bench.cluster import Cluster
from bench.live import ssl_context
from fastblog.posts.models import Post

CLIENTS = 32
# Each client pauses between its rounds. Flat out, the 32 took every core of the machine for as
# long as the restarts lasted, which made the restarts (and so the load) last longer, and the
# suite's other workers waited. Paced, a request still starts every few milliseconds (~150 a
# second at 0.6 s), so every host change meets requests in flight, which is what the tests are
# about. 0.2 s sent three times as many, for 69 CPU-s of tests/cluster against 47.
ROUND_PAUSE = 0.6
REQUEST_TIMEOUT = 30.0
WATCH_INTERVAL = 0.1
_titles = itertools.count(1)


@dataclass(frozen=True)
class Failure:
    method: str
    path: str
    started: float  # time.monotonic()
    ended: float
    error: str


@dataclass
class Load:
    """What the clients saw: writes the app acknowledged (title -> id) and failed requests."""

    acknowledged: dict[str, int] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    answered_by: dict[str, int] = field(default_factory=dict)
    requests: int = 0

    async def call(
        self, client: httpx.AsyncClient, method: str, path: str, **kwargs: object
    ) -> httpx.Response | None:
        started = time.monotonic()
        self.requests += 1
        try:
            response = await client.request(method, path, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            self.failures.append(Failure(method, path, started, time.monotonic(), repr(exc)))
            return None
        host = response.headers.get("x-fastblog-host", "?")
        self.answered_by[host] = self.answered_by.get(host, 0) + 1
        if response.is_success:
            return response
        error = f"{response.status_code} from {host}: {response.text[:200]}"
        self.failures.append(Failure(method, path, started, time.monotonic(), error))
        return None


async def one_round(load: Load, client: httpx.AsyncClient) -> None:
    """Write a post, read it back, read the first page."""
    title = f"cluster load {next(_titles)}"
    body = {"title": title, "content": "Written through the proxy while hosts come and go."}
    created = await load.call(client, "POST", "/api/posts", json=body)
    if created is not None:
        post_id = created.json()["id"]
        load.acknowledged[title] = post_id
        await load.call(client, "GET", f"/api/posts/{post_id}")
    await load.call(client, "GET", "/api/posts?limit=10")


async def run_load(
    cluster: Cluster,
    tokens: list[str],
    *,
    seconds: float,
    during: Callable[[], Awaitable[None]],
    # Generous: two suites at once on the two cores (six workers) took a host's restart past
    # 90 s for both hosts, and the rolling restart failed on its own deadline, not the app's.
    max_seconds: float = 180.0,
) -> Load:
    """CLIENTS clients (each with a token of `tokens`, in turn) for at least `seconds` and
    until `during` has returned, but never more than `max_seconds`."""
    load = Load()
    start = time.monotonic()
    deadline = start + max_seconds

    async def drive(client: httpx.AsyncClient) -> None:
        while time.monotonic() < deadline:
            await one_round(load, client)
            await asyncio.sleep(ROUND_PAUSE)

    async def events() -> None:
        nonlocal deadline
        try:
            async with asyncio.timeout(max_seconds):
                await during()
        finally:
            deadline = min(deadline, max(time.monotonic(), start + seconds))

    clients = [
        httpx.AsyncClient(
            base_url=cluster.url,
            headers={"Authorization": f"Bearer {tokens[i % len(tokens)]}"},
            timeout=REQUEST_TIMEOUT,
            trust_env=False,
            verify=ssl_context(),  # one for the 32 (bench.live.ssl_context says why)
        )
        for i in range(CLIENTS)
    ]
    try:
        async with asyncio.TaskGroup() as tasks:  # a failing event stops the clients too
            tasks.create_task(events())
            for client in clients:
                tasks.create_task(drive(client))
    finally:
        for client in clients:
            await client.aclose()
    return load


@dataclass(frozen=True)
class Sample:
    at: float
    status: dict[str, str]  # HAProxy's view: UP, DOWN, "UP 1/2" (going down), ...
    sent: dict[str, int]  # requests HAProxy has sent to each host so far (stot)


class Watch:
    """HAProxy's stats every WATCH_INTERVAL, in a thread (the stats socket is blocking)."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.samples: list[Sample] = []
        self._sampled = asyncio.Condition()  # notified after each sample
        self._task: asyncio.Task[None] | None = None

    def sample(self) -> Sample:
        servers = self.cluster.proxy.servers()
        return Sample(
            time.monotonic(),
            {name: row["status"] for name, row in servers.items()},
            {name: int(row["stot"]) for name, row in servers.items()},
        )

    async def _run(self) -> None:
        while True:
            self.samples.append(await asyncio.to_thread(self.sample))
            async with self._sampled:
                self._sampled.notify_all()
            await asyncio.sleep(WATCH_INTERVAL)

    async def __aenter__(self) -> "Watch":
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    def last_before(self, moment: float) -> Sample:
        return [sample for sample in self.samples if sample.at <= moment][-1]

    async def until_sent_to(self, server: str, *, since: float) -> None:
        """Until a sample shows requests sent to `server` after the last sample before
        `since` (the caller bounds the wait)."""
        before = self.last_before(since).sent[server]
        async with self._sampled:
            await self._sampled.wait_for(lambda: self.samples[-1].sent[server] > before)

    def first_down_after(self, server: str, moment: float) -> Sample:
        return next(
            sample
            for sample in self.samples
            if sample.at >= moment and sample.status[server].startswith("DOWN")
        )

    def sent_while_down(self, server: str) -> list[tuple[Sample, Sample]]:
        """Consecutive samples that both saw `server` DOWN and between which it got requests."""
        return [
            (before, after)
            for before, after in itertools.pairwise(self.samples)
            if before.status[server].startswith("DOWN")
            and after.status[server].startswith("DOWN")
            and after.sent[server] > before.sent[server]
        ]


async def stored_ids(database_url: str, ids: list[int]) -> set[int]:
    """Which of `ids` the posts table holds."""
    engine = create_async_engine(database_url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(select(Post.id).where(Post.id.in_(ids)))
            return {row.id for row in rows}
    finally:
        await engine.dispose()
