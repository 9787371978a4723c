"""The newsletter under 10,000 subscribers: how long publishing takes to answer, how much the
event loop lags while the mails go out, and how many mails a second reach a local SMTP server.

    .venv/bin/python -m bench.newsletter_bench [SUBSCRIBERS]

A fresh SQLite database (or DATABASE_URL: an empty database, migrated here), the app started
with its lifespan as `fastblog serve` starts it (outbox, post watcher, issue sender), a real
aiosmtpd server in a process of its own taking every mail. The publish is a real POST
/api/posts through the ASGI interface; the loop lag is sampled every 10 ms on the app's loop
from the publish until the last mail was sent (the SMTP server took it and its outbox row
went). Prints figures; asserts nothing.

    .venv/bin/python -m bench.newsletter_bench [SUBSCRIBERS] [--idle SECONDS]

On a shared machine a sleep wakes late also when the machine is busy, so the lag is sampled
twice in the same run: first for --idle seconds (default 10) with the app started and the
sender idle (the machine's own stalls), then while the mails go out. Each sample also says how
much of its lateness the loop's thread spent computing (its CPU time): that part is ours,
whatever the load. And every garbage collection during the send is timed, in CPU time.
"""

import argparse
import asyncio
import contextlib
import gc
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
from sqlalchemy import func, insert, select

from bench.live import free_port
from fastblog.accounts.tokens import create_access_token
from fastblog.cli import tune_gc_after_startup, upgrade_database
from fastblog.config import Settings
from fastblog.db import utcnow
from fastblog.main import create_app
from fastblog.newsletter.models import NewsletterDelivery, Subscription
from fastblog.outbox import OutboxMail
from fastblog.resources import Resources
from tests.factories import make_user


def start_smtp_server(port: int) -> subprocess.Popen[bytes]:
    """aiosmtpd in a process of its own, accepting and dropping every mail: in this process
    it would take the GIL from the app's loop and count as the app's lag."""
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ],
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return server
        time.sleep(0.1)
    server.kill()
    raise RuntimeError("the SMTP server did not start")


PENDING = select(func.count().label("n")).select_from(OutboxMail)
SENT_KEYS = select(func.count().label("n")).select_from(NewsletterDelivery)


INTERVAL = 0.01  # seconds between lag samples
T = TypeVar("T")


@dataclass
class Lag:
    late: list[float] = field(default_factory=list)  # ms each sleep woke late
    computing: list[float] = field(default_factory=list)  # ms of it the loop's thread computed

    def summary(self) -> str:
        if not self.late:
            return "no samples"
        return (
            f"median {statistics.median(self.late):.1f} ms, p99 {p99(self.late):.1f} ms, "
            f"max {max(self.late):.1f} ms ({len(self.late)} samples); the loop computing: "
            f"p99 {p99(self.computing):.1f} ms, max {max(self.computing):.1f} ms"
        )


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(int(len(ordered) * 0.99) - 1, 0)]


async def lag_sampler(lag: Lag, stop: asyncio.Event) -> None:
    while not stop.is_set():
        # time.monotonic, not loop.time() (see fastblog.observability.loop_monitor); the
        # thread's CPU time tells the loop's own work from the machine's other processes.
        before, cpu_before = time.monotonic(), time.thread_time()
        await asyncio.sleep(INTERVAL)
        late = max((time.monotonic() - before - INTERVAL) * 1000, 0.0)
        lag.late.append(late)
        lag.computing.append(min(late, (time.thread_time() - cpu_before) * 1000))


@dataclass
class Collections:
    """Every garbage collection while `on`: its generation and its CPU time in ms."""

    on: bool = False
    times: dict[int, list[float]] = field(default_factory=dict)
    _started: float = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if not self.on:
            return
        if phase == "start":
            self._started = time.thread_time()
        else:
            spent = (time.thread_time() - self._started) * 1000
            self.times.setdefault(info["generation"], []).append(spent)

    def summary(self) -> str:
        return ", ".join(
            f"generation {generation}: {len(spent)}, longest {max(spent):.1f} ms"
            for generation, spent in sorted(self.times.items())
        )


def load() -> str:
    return ", ".join(f"{n:.1f}" for n in os.getloadavg())


async def run(subscribers: int, database_url: str, media: Path, idle: float) -> None:
    port = free_port()
    smtp = start_smtp_server(port)
    settings = Settings(
        database_url=database_url,
        media_dir=media,
        secret_key="bench-" + "x" * 40,
        smtp_host="127.0.0.1",
        smtp_port=port,
        public_base_url="https://blog.example",
        write_rate_limits=False,
        newsletter_mails_per_minute=1_000_000,  # as fast as the SMTP server takes them
        log_level="WARNING",
    )
    app = create_app(settings)
    tune_gc_after_startup(app)  # as `fastblog serve` starts each worker (fastblog.cli)
    try:
        async with app.router.lifespan_context(app) as state:
            resources: Resources = state["resources"]
            author_id = await add_subscribers(resources, subscribers)
            token = create_access_token(
                author_id, secret=resources.secret_key, lifetime=timedelta(hours=1)
            )
            idle_lag = Lag()
            print(f"load average before:    {load()}")
            if idle > 0:
                await sample_lag(idle_lag, asyncio.sleep(idle))
            transport = httpx.ASGITransport(app=_with_state(app, state))
            async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
                sending_lag, collections = Lag(), Collections()
                gc.callbacks.append(collections)
                collections.on = True
                try:
                    figures = await sample_lag(
                        sending_lag, publish_and_wait(c, resources, token, subscribers)
                    )
                finally:
                    gc.callbacks.remove(collections)
            print(f"load average after:     {load()}")
            print(f"subscribers:            {subscribers}")
            print(f"database:               {database_url.split(':', 1)[0]}")
            for name, value in figures.items():
                print(f"{name + ':':<24}{value}")
            print(f"loop lag, sender idle:  {idle_lag.summary()}")
            print(f"loop lag while sending: {sending_lag.summary()}")
            print(f"garbage collections:    {collections.summary() or 'none'}")
    finally:
        smtp.terminate()
        smtp.wait(10)


async def add_subscribers(resources: Resources, subscribers: int) -> int:
    """An author and `subscribers` confirmed site subscriptions; the author's id."""
    async with resources.database.transaction() as session:
        author = await make_user(session, role="author")
        await session.commit()
        await session.execute(
            insert(Subscription),
            [
                {
                    "email": f"reader{n}@example.com",
                    "token": secrets.token_urlsafe(32),
                    "created_at": utcnow(),
                    "confirmed_at": utcnow(),
                }
                for n in range(subscribers)
            ],
        )
        await session.commit()
    return author.id


async def sample_lag(lag: Lag, work: Coroutine[Any, Any, T]) -> T:
    """Sample the loop's lag into `lag` while `work` runs."""
    stop = asyncio.Event()
    sampler = asyncio.create_task(lag_sampler(lag, stop))
    try:
        return await work
    finally:
        stop.set()
        await sampler


async def publish_and_wait(
    client: httpx.AsyncClient, resources: Resources, token: str, subscribers: int
) -> dict[str, str]:
    """Publish a post and wait until every mail was sent; the figures, by name."""
    started = time.perf_counter()
    response = await client.post(
        "/api/posts",
        json={"title": "To everyone", "content": "Hello, readers. " * 40},
        headers={"Authorization": f"Bearer {token}"},
    )
    answered = (time.perf_counter() - started) * 1000
    assert response.status_code == 201, response.text
    database = resources.database
    first_sent = None
    keys = pending = 0
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:  # sent: queued (keyed) and gone from the outbox
        await asyncio.sleep(0.2)
        keys = (await database.fetch(SENT_KEYS))[0]["n"]
        pending = (await database.fetch(PENDING))[0]["n"]
        if first_sent is None and keys > pending:
            first_sent = time.perf_counter()
        if keys == subscribers and pending == 0:
            break
    finished = time.perf_counter()
    return {
        "publish answered in": f"{answered:.1f} ms",
        "mails sent": f"{keys - pending} (of {subscribers})",
        "first mail within": f"{((first_sent or finished) - started) * 1000:.0f} ms",
        "all sent after": f"{finished - started:.1f} s",
        "mails/s": f"{(keys - pending) / (finished - started):.0f}",
    }


def _with_state(app: Any, state: dict[str, Any]) -> Any:
    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        await app({**scope, "state": dict(state)}, receive, send)

    return asgi


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("subscribers", nargs="?", type=int, default=10_000)
    parser.add_argument(
        "--idle", type=float, default=10.0, help="seconds of lag sampled with the sender idle"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("DATABASE_URL") or f"sqlite+aiosqlite:///{tmp}/bench.db"
        upgrade_database(url)
        asyncio.run(run(args.subscribers, url, Path(tmp) / "media", args.idle))


if __name__ == "__main__":
    main()
