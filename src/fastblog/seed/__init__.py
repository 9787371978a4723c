"""`fastblog seed --users N --posts M`: generated load data shaped like a real blog's, a
million posts in minutes (the demo blog a newcomer reads is fastblog.seed.demo_blog).

Users with realistic names, ~200 tags with a long tail, and posts of Zipf-distributed prose
in real Markdown, published over the last six years, a few of them drafts or scheduled
(docs/seed.md says what the data looks like and why). Posts are made in chunks by worker
processes (generating text is the slow part) while the main process writes the chunks
already made with the database's bulk road (fastblog.seed.bulk).
"""

import asyncio
import contextlib
import multiprocessing
import os
import random
from collections import deque
from collections.abc import AsyncGenerator, Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from pwdlib import PasswordHash
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from fastblog.accounts.models import User
from fastblog.config import Settings
from fastblog.db import utcnow
from fastblog.db.engine import create_engine
from fastblog.posts.models import Tag
from fastblog.seed.bulk import bulk_load
from fastblog.seed.rows import Blog, PostRow, PostTagRow, chunk_rows, start_worker, worker_chunk
from fastblog.seed.vocabulary import FIRST_NAMES, LAST_NAMES, TAGS

# Every seeded writer can log in with this password (demo and benchmark data only).
DEMO_PASSWORD = "fastblog-demo"  # noqa: S105 (documented demo data)
DEFAULT_RNG_SEED = 7
# The app's statement timeout (db_timeout_seconds, 10 s) is for requests; after a million rows
# one statement of the seed (PostgreSQL's GIN index build, a recount) may take minutes.
SEED_STATEMENT_TIMEOUT_SECONDS = 3_600.0
Progress = Callable[[int], None]


@dataclass(frozen=True)
class Seeded:
    users: int
    posts: int


async def seed(
    settings: Settings,
    *,
    users: int,
    posts: int,
    rng_seed: int = DEFAULT_RNG_SEED,
    now: datetime | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> Seeded:
    """Add `users` users and `posts` posts spread among them (among the existing users when
    `users` is 0). The same rng_seed and `now` give the same blog."""
    # One argon2 hash (~100 ms of CPU), shared by every seeded writer: in a thread.
    password_hash = await asyncio.to_thread(PasswordHash.recommended().hash, DEMO_PASSWORD)
    engine = create_engine(
        settings.model_copy(update={"db_timeout_seconds": SEED_STATEMENT_TIMEOUT_SECONDS})
    )
    try:
        async with engine.connect() as connection, bulk_load(connection) as loader:
            user_ids = await add_users(connection, users, password_hash, rng_seed)
            if posts and not user_ids:
                user_ids = list((await connection.scalars(select(User.id))).all())
                if not user_ids:
                    raise SystemExit("No users to write the posts: seed some users too.")
            blog = Blog(
                rng_seed=rng_seed,
                posts=posts,
                first_post_id=await loader.next_post_id(),
                user_ids=tuple(user_ids),
                tag_ids=await add_tags(connection) if posts else {},
                now=now or utcnow(),
                sqlite=settings.is_sqlite,
            )
            written = 0
            chunks = generated(blog, workers or os.cpu_count() or 1)
            async with contextlib.aclosing(chunks):  # its worker processes end with it
                async for post_rows, post_tag_rows in chunks:
                    await loader.write(post_rows, post_tag_rows)
                    written += len(post_rows)
                    if progress:
                        progress(written)
            await loader.finish(blog.first_post_id + posts - 1)
    finally:
        await engine.dispose()
    return Seeded(users=users, posts=posts)


async def generated(
    blog: Blog, workers: int
) -> AsyncGenerator[tuple[list[PostRow], list[PostTagRow]], None]:
    """The blog's chunks in order. With several chunks, worker processes make them (the
    text is CPU work) a few ahead of the writes, which go on meanwhile."""
    if blog.chunks <= 1 or workers <= 1:
        # Small seeds: here, on the CLI's own loop (nothing else runs on it), since starting
        # worker processes would cost more than the one chunk.
        for chunk in range(blog.chunks):
            yield chunk_rows(blog, chunk)
        return
    loop = asyncio.get_running_loop()
    # "spawn": fresh interpreters, as the app's process pool (fastblog.main) uses.
    pool = ProcessPoolExecutor(
        max_workers=min(workers, blog.chunks),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=start_worker,
        initargs=(blog,),
    )
    ahead: deque[asyncio.Future[tuple[list[PostRow], list[PostTagRow]]]] = deque()
    try:
        for chunk in range(blog.chunks):
            ahead.append(loop.run_in_executor(pool, worker_chunk, chunk))
            if len(ahead) > 2 * workers:
                yield await ahead.popleft()
        while ahead:
            yield await ahead.popleft()
    finally:
        for future in ahead:  # what a failed write leaves: its outcome no longer matters
            future.cancel()
        # Joining the workers blocks: in a thread.
        await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)


async def add_users(
    connection: AsyncConnection, count: int, password_hash: str, rng_seed: int
) -> list[int]:
    """`count` users named like people ("mara.okafor", "kenji_s", "elenagarcia"), unique
    whatever their case; they log in as writer<n>@example.com, n going on from the highest
    user id (benchmarks and the README rely on writer1@example.com)."""
    if not count:
        return []
    start = (await connection.scalar(select(func.max(User.id)))) or 0
    taken = set((await connection.scalars(select(func.lower(User.username)))).all())
    rng = random.Random(f"{rng_seed}/users/{start}")
    rows = []
    for n in range(start + 1, start + count + 1):
        name = unique_username(rng, taken)
        rows.append(
            {"username": name, "email": f"writer{n}@example.com", "password_hash": password_hash}
        )
    result = await connection.execute(
        insert(User).returning(User.id, sort_by_parameter_order=True), rows
    )
    return list(result.scalars().all())


def unique_username(rng: random.Random, taken: set[str]) -> str:
    first, last = rng.choice(FIRST_NAMES).lower(), rng.choice(LAST_NAMES).lower()
    name = rng.choice(
        (
            f"{first}.{last}",
            f"{first}_{last}",
            f"{first}{last}",
            f"{first[0]}{last}",
            f"{first}_{last[0]}",
            first,
        )
    )
    candidate, suffix = name, 1
    while candidate in taken:
        suffix += 1
        candidate = f"{name}{suffix}"
    taken.add(candidate)
    return candidate


async def add_tags(connection: AsyncConnection) -> dict[str, int]:
    """The seed's tags, made if missing; their ids by name."""
    by_name = select(Tag.name, Tag.id).where(Tag.name.in_(TAGS))
    existing = {name for name, _ in (await connection.execute(by_name)).all()}
    missing = [{"name": name} for name in TAGS if name not in existing]
    if missing:
        await connection.execute(insert(Tag), missing)
    return {name: tag_id for name, tag_id in (await connection.execute(by_name)).all()}
