"""The newsletter under 10,000 subscribers: how long publishing takes to answer, how much the
event loop lags while the mails go out, and how many mails a second reach a local SMTP server.

    .venv/bin/python -m bench.newsletter_bench [SUBSCRIBERS]

A fresh SQLite database (or DATABASE_URL: an empty database, migrated here), the app started
with its lifespan as `fastblog serve` starts it (outbox, post watcher, issue sender), a real
aiosmtpd server in a process of its own taking every mail. The publish is a real POST
/api/posts through the ASGI interface; the loop lag is sampled every 10 ms on the app's loop
from the publish until the last mail was sent (the SMTP server took it and its outbox row
went). Prints figures; asserts nothing.
"""

import asyncio
import contextlib
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, insert, select

from bench.live import free_port
from fastblog.accounts.tokens import create_access_token
from fastblog.cli import upgrade_database
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


async def lag_sampler(samples: list[float], stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        before = loop.time()
        await asyncio.sleep(0.01)
        samples.append((loop.time() - before - 0.01) * 1000)


async def run(subscribers: int, database_url: str, media: Path) -> None:
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
    try:
        async with app.router.lifespan_context(app) as state:
            resources: Resources = state["resources"]
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
            token = create_access_token(
                author.id, secret=resources.secret_key, lifetime=timedelta(hours=1)
            )
            transport = httpx.ASGITransport(app=_with_state(app, state))
            async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
                samples: list[float] = []
                stop = asyncio.Event()
                sampler = asyncio.create_task(lag_sampler(samples, stop))
                started = time.perf_counter()
                response = await c.post(
                    "/api/posts",
                    json={"title": "To everyone", "content": "Hello, readers. " * 40},
                    headers={"Authorization": f"Bearer {token}"},
                )
                answered = (time.perf_counter() - started) * 1000
                assert response.status_code == 201, response.text
                database = resources.database
                first_sent = None
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
                stop.set()
                await sampler
            print(f"subscribers:            {subscribers}")
            print(f"database:               {database_url.split(':', 1)[0]}")
            print(f"publish answered in:    {answered:.1f} ms")
            print(f"mails sent:             {keys - pending} (of {subscribers})")
            print(f"first mail within:      {((first_sent or finished) - started) * 1000:.0f} ms")
            print(f"all sent after:         {finished - started:.1f} s")
            print(f"mails/s:                {(keys - pending) / (finished - started):.0f}")
            samples.sort()
            p99 = samples[int(len(samples) * 0.99) - 1] if samples else 0.0
            print(
                f"loop lag while sending: median {statistics.median(samples):.1f} ms, "
                f"p99 {p99:.1f} ms, max {max(samples):.1f} ms ({len(samples)} samples)"
            )
    finally:
        smtp.terminate()
        smtp.wait(10)


def _with_state(app: Any, state: dict[str, Any]) -> Any:
    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        await app({**scope, "state": dict(state)}, receive, send)

    return asgi


def main() -> None:
    subscribers = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("DATABASE_URL") or f"sqlite+aiosqlite:///{tmp}/bench.db"
        upgrade_database(url)
        asyncio.run(run(subscribers, url, Path(tmp) / "media"))


if __name__ == "__main__":
    main()
