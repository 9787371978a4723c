"""`make bench SCALE=1m` (or 1k): the bench on a blog of that size, seeded once and reused.

Seeding a million posts takes minutes, so the seeded blog is kept, keyed by backend and
size, and every run works on a copy of it (the run writes posts, comments and follows):

- SQLite: the file `.cache/bench/seed-<scale>.sqlite` (BENCH_SEED_CACHE for another folder),
  copied into a temporary folder for the run.
- PostgreSQL: the database `fastblog_seed_<scale>` on DATABASE_URL's server, cloned for the
  run with CREATE DATABASE … TEMPLATE (STRATEGY FILE_COPY: the files, not a WAL record per
  page) and the clone dropped after.

Either is seeded through the CLI (`fastblog db upgrade`, `fastblog seed`) under a temporary
name and renamed once complete, so an interrupted seed is never reused. The copy is
upgraded to the latest migration before the run, as `make run` would. To seed again (the
seed's text changed, say): delete the file, or DROP DATABASE fastblog_seed_<scale>.
"""

import asyncio
import contextlib
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from bench.db import FASTBLOG, backend_name

REPO_ROOT = Path(__file__).resolve().parent.parent
SEED_TIMEOUT_SECONDS = 3_600  # a million posts on a loaded two-core machine


@dataclass(frozen=True)
class Scale:
    name: str
    users: int
    posts: int


SCALES = {
    "1k": Scale("1k", users=100, posts=1_000),
    "1m": Scale("1m", users=1_000, posts=1_000_000),
}


def scale_named(name: str) -> Scale:
    try:
        return SCALES[name.lower()]
    except KeyError:
        raise SystemExit(f"SCALE={name}: one of {', '.join(SCALES)}") from None


def seed_cache_folder() -> Path:
    return Path(os.environ.get("BENCH_SEED_CACHE") or REPO_ROOT / ".cache" / "bench")


def _cli(url: str, *args: str, timeout: float) -> None:
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([FASTBLOG, *args], env=env, check=True, timeout=timeout)


def seed_into(url: str, scale: Scale) -> float:
    """Migrate and seed `url` through the CLI; the seconds the seed took."""
    _cli(url, "db", "upgrade", timeout=300)
    started = time.perf_counter()
    _cli(
        url,
        "seed",
        f"--users={scale.users}",
        f"--posts={scale.posts}",
        timeout=SEED_TIMEOUT_SECONDS,
    )
    return time.perf_counter() - started


@contextlib.contextmanager
def seeded_copy(base_url: str | None, scale: Scale) -> Iterator[str]:
    """A copy of the seeded blog of `scale` for one run (seeded first if not kept yet)."""
    if base_url is None or backend_name(base_url) == "sqlite":
        with _sqlite_copy(scale) as url:
            yield url
    else:
        with _postgres_copy(base_url, scale) as url:
            yield url


@contextlib.contextmanager
def _sqlite_copy(scale: Scale) -> Iterator[str]:
    kept = seed_cache_folder() / f"seed-{scale.name}.sqlite"
    if not kept.exists():
        kept.parent.mkdir(parents=True, exist_ok=True)
        building = kept.with_suffix(".building")
        building.unlink(missing_ok=True)
        print(f"  seeding {scale.posts:,} posts into {kept} (kept for later runs)", flush=True)
        seconds = seed_into(f"sqlite+aiosqlite:///{building}", scale)
        print(f"  seeded in {seconds:.0f} s", flush=True)
        building.rename(kept)  # the seed checkpointed its WAL: the file is the whole database
    folder = tempfile.mkdtemp(prefix="fastblog-bench-")
    try:
        copy = Path(folder, "bench.db")
        print(f"  copying {kept} for this run", flush=True)
        shutil.copyfile(kept, copy)
        url = f"sqlite+aiosqlite:///{copy}"
        _cli(url, "db", "upgrade", timeout=600)
        yield url
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def _admin(dsn: str, *statements: str) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        rows: list[asyncpg.Record] = []
        for sql in statements:
            rows = await connection.fetch(sql)
        return rows
    finally:
        await connection.close()


@contextlib.contextmanager
def _postgres_copy(base_url: str, scale: Scale) -> Iterator[str]:
    url = make_url(base_url)
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )

    def url_of(database: str) -> str:
        named = url.set(drivername="postgresql+asyncpg", database=database)
        return named.render_as_string(hide_password=False)

    kept = f"fastblog_seed_{scale.name}"
    exists = f"SELECT 1 FROM pg_database WHERE datname = '{kept}'"  # noqa: S608 (our own name)
    found = asyncio.run(_admin(admin, exists))
    if not found:
        building = f"{kept}_building"
        asyncio.run(
            _admin(
                admin,
                f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)',
                f'CREATE DATABASE "{building}"',
            )
        )
        print(f"  seeding {scale.posts:,} posts into database {kept} (kept)", flush=True)
        seconds = seed_into(url_of(building), scale)
        print(f"  seeded in {seconds:.0f} s", flush=True)
        asyncio.run(_admin(admin, f'ALTER DATABASE "{building}" RENAME TO "{kept}"'))
    run_copy = f"fastblog_bench_{uuid.uuid4().hex[:12]}"
    print(f"  cloning database {kept} for this run", flush=True)
    asyncio.run(_admin(admin, f'CREATE DATABASE "{run_copy}" TEMPLATE "{kept}" STRATEGY FILE_COPY'))
    try:
        _cli(url_of(run_copy), "db", "upgrade", timeout=600)
        yield url_of(run_copy)
    finally:
        asyncio.run(_admin(admin, f'DROP DATABASE IF EXISTS "{run_copy}" WITH (FORCE)'))
