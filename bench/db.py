"""A fresh, seeded database for one benchmark run, and the row counts it checks."""

import asyncio
import contextlib
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from fastblog.accounts.models import User
from fastblog.config import Settings
from fastblog.db import utcnow
from fastblog.db.engine import create_engine
from fastblog.posts.models import PUBLISHED, Post

SETTLE_STEP_SECONDS = 0.5
FASTBLOG = str(Path(sys.executable).with_name("fastblog"))


def backend_name(url: str) -> str:
    return make_url(url).get_backend_name()


@contextlib.contextmanager
def fresh_database(base_url: str | None) -> Iterator[str]:
    """A SQLite file in a temporary folder, or a throwaway database on `base_url`'s server.

    Either is removed afterwards, so runs never see each other's rows.
    """
    if base_url is None or backend_name(base_url) == "sqlite":
        folder = tempfile.mkdtemp(prefix="fastblog-bench-")
        try:
            yield f"sqlite+aiosqlite:///{folder}/bench.db"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    url = make_url(base_url)
    name = f"fastblog_bench_{uuid.uuid4().hex[:12]}"
    admin = url.set(drivername="postgresql", database="postgres")
    admin_dsn = admin.render_as_string(hide_password=False)
    asyncio.run(_pg_admin(admin_dsn, f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(drivername="postgresql+asyncpg", database=name).render_as_string(
            hide_password=False
        )
    finally:
        asyncio.run(_pg_admin(admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _pg_admin(dsn: str, sql: str) -> None:
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def migrate_and_seed(url: str, *, users: int, posts: int) -> None:
    """Through the CLI a user would run, so the benchmark seeds what `make seed` seeds."""
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([FASTBLOG, "db", "upgrade"], env=env, check=True, timeout=120)
    if users or posts:
        seed = [FASTBLOG, "seed", f"--users={users}", f"--posts={posts}"]
        subprocess.run(seed, env=env, check=True, timeout=600, stdout=subprocess.DEVNULL)


async def _scalars(url: str) -> dict[str, int]:
    engine = create_engine(Settings(database_url=url))
    try:
        async with engine.connect() as connection:
            row = (
                await connection.execute(
                    select(
                        select(func.count()).select_from(Post).scalar_subquery(),
                        select(func.min(Post.id)).scalar_subquery(),
                        select(func.max(Post.id)).scalar_subquery(),
                        select(func.min(User.id)).scalar_subquery(),
                        select(func.max(User.id)).scalar_subquery(),
                    )
                )
            ).one()
    finally:
        await engine.dispose()
    posts, first_post, last_post, first_user, last_user = (value or 0 for value in row)
    return {
        "posts": posts,
        "first_post": first_post,
        "last_post": last_post,
        "first_user": first_user,
        "last_user": last_user,
    }


# How many ids to draw for the one-post routes: spread over the whole table (no hot row), and
# few enough to pass as one IN list.
PUBLISHED_SAMPLE = 20_000


async def _published_post_ids(url: str, sample: int) -> list[int]:
    engine = create_engine(Settings(database_url=url))
    try:
        async with engine.connect() as connection:
            low, high = (
                await connection.execute(select(func.min(Post.id), func.max(Post.id)))
            ).one()
            if low is None:
                return []
            rng = random.Random(13)
            drawn = sorted({rng.randint(low, high) for _ in range(sample)})
            rows = await connection.execute(
                select(Post.id)
                .where(Post.id.in_(drawn), Post.status == PUBLISHED, Post.published_at <= utcnow())
                .order_by(Post.id)
            )
            return list(rows.scalars())
    finally:
        await engine.dispose()


def published_post_ids(url: str, sample: int = PUBLISHED_SAMPLE) -> list[int]:
    """Ids of visible posts (published, time come) among `sample` drawn over the whole table:
    what a reader can open, so a one-post run counts no 404 for a draft or a scheduled post."""
    return asyncio.run(_published_post_ids(url, sample))


async def _oldest_keys(url: str, count: int) -> list[tuple[datetime, int]]:
    engine = create_engine(Settings(database_url=url))
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(Post.published_at, Post.id)
                .where(Post.status == PUBLISHED, Post.published_at <= utcnow())
                .order_by(Post.published_at, Post.id)
                .limit(count)
            )
            return [(at, post_id) for at, post_id in rows]
    finally:
        await engine.dispose()


def oldest_keys(url: str, count: int) -> list[tuple[datetime, int]]:
    """The (published_at, id) keys of the `count` oldest visible posts, oldest first."""
    return asyncio.run(_oldest_keys(url, count))


def table_facts(url: str) -> dict[str, int]:
    """Post count and the id ranges of posts and users."""
    return asyncio.run(_scalars(url))


def settled_post_count(url: str, *, timeout: float = 15) -> int:
    """The post count once writes still in flight after a run have landed.

    The load tool stops at its deadline while the server may still commit the requests
    it had read; count until two readings agree.
    """
    previous = -1
    for _ in range(int(timeout / SETTLE_STEP_SECONDS)):
        current = table_facts(url)["posts"]
        if current == previous:
            return current
        previous = current
        time.sleep(SETTLE_STEP_SECONDS)
    return previous
