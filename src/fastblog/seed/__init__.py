"""`fastblog seed --users N --posts M`: generated load data shaped like a real blog's, a
million posts in minutes (the demo blog a newcomer reads is fastblog.seed.demo_blog).

Users with realistic names, ~200 tags with a long tail, and posts of Zipf-distributed prose
in real Markdown, published over the last six years, a few of them drafts or scheduled
(docs/seed.md says what the data looks like and why). Posts are made in chunks by worker
processes (generating text is the slow part) while the main process writes the chunks
already made with the database's bulk road: in one transaction (fastblog.seed.bulk), or on
PostgreSQL, for a seed of several chunks, through several COPY streams at once
(fastblog.seed.streams).
"""

import asyncio
import contextlib
import multiprocessing
import os
import random
from collections import deque
from collections.abc import AsyncGenerator, Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from pwdlib import PasswordHash
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from fastblog.accounts.models import User
from fastblog.config import Settings
from fastblog.db import utcnow
from fastblog.db.ddl import lock_for_schema_change
from fastblog.db.engine import create_engine
from fastblog.posts.models import Tag
from fastblog.seed.bulk import SUSPENDED_TABLES, bulk_load
from fastblog.seed.rows import (
    CHUNK_POSTS,
    Blog,
    PostRow,
    PostTagRow,
    chunk_rows,
    start_worker,
    worker_chunk,
)
from fastblog.seed.streams import (
    Reserved,
    can_stream,
    copy_in_streams,
    drop_indexes,
    finish,
    reserve_posts,
    undo,
)
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
    streams: int | None = None,
    chunk_posts: int = CHUNK_POSTS,
    progress: Progress | None = None,
) -> Seeded:
    """Add `users` users and `posts` posts spread among them (among the existing users when
    `users` is 0). The same rng_seed and `now` give the same blog. `workers` processes make
    the text; on PostgreSQL, `streams` connections write it (both: one per CPU)."""
    # One argon2 hash (~100 ms of CPU), shared by every seeded writer: in a thread.
    password_hash = await asyncio.to_thread(PasswordHash.recommended().hash, DEMO_PASSWORD)
    workers = workers or os.cpu_count() or 1
    streams = streams or workers
    engine = create_engine(
        settings.model_copy(
            update={
                "db_timeout_seconds": SEED_STATEMENT_TIMEOUT_SECONDS,
                "db_pool_size": max(settings.db_pool_size, streams + 1),
            }
        )
    )
    plan = Plan(
        users=users,
        posts=posts,
        password_hash=password_hash,
        rng_seed=rng_seed,
        now=now or utcnow(),
        workers=workers,
        chunk_posts=chunk_posts,
        progress=progress,
    )
    try:
        if await _in_streams(engine, plan, streams):
            await seed_in_streams(engine, plan, streams)
        else:
            await seed_in_one_transaction(engine, plan)
    finally:
        await engine.dispose()
    return Seeded(users=users, posts=posts)


@dataclass(frozen=True)
class Plan:
    """What to seed, as the caller asked."""

    users: int
    posts: int
    password_hash: str
    rng_seed: int
    now: datetime
    workers: int
    chunk_posts: int
    progress: Progress | None

    def blog(
        self, *, first_post_id: int, user_ids: Sequence[int], tag_ids: dict[str, int], sqlite: bool
    ) -> Blog:
        return Blog(
            rng_seed=self.rng_seed,
            posts=self.posts,
            first_post_id=first_post_id,
            user_ids=tuple(user_ids),
            tag_ids=tag_ids,
            now=self.now,
            sqlite=sqlite,
            chunk_posts=self.chunk_posts,
        )


async def _in_streams(engine: AsyncEngine, plan: Plan, streams: int) -> bool:
    """PostgreSQL's several COPY streams, when there is more than a chunk to write, more
    than one stream asked for, and the role may switch its triggers off."""
    if engine.dialect.name != "postgresql" or streams < 2 or plan.posts <= plan.chunk_posts:
        return False
    async with engine.connect() as connection:
        return await can_stream(connection)


async def authors(connection: AsyncConnection, added: list[int]) -> list[int]:
    """The seed's writers: the users it added, or else every user there is."""
    if added:
        return added
    existing = list((await connection.scalars(select(User.id))).all())
    if not existing:
        raise SystemExit("No users to write the posts: seed some users too.")
    return existing


async def seed_in_one_transaction(engine: AsyncEngine, plan: Plan) -> None:
    """All or nothing, in one transaction (fastblog.seed.bulk)."""
    async with engine.connect() as connection, bulk_load(connection) as loader:
        added = await add_users(connection, plan.users, plan.password_hash, plan.rng_seed)
        blog = plan.blog(
            first_post_id=await loader.next_post_id(),
            user_ids=await authors(connection, added) if plan.posts else added,
            tag_ids=await add_tags(connection) if plan.posts else {},
            sqlite=engine.dialect.name == "sqlite",
        )
        written = 0
        chunks = generated(blog, plan.workers)
        async with contextlib.aclosing(chunks):  # its worker processes end with it
            async for post_rows, post_tag_rows in chunks:
                await loader.write(post_rows, post_tag_rows)
                written += len(post_rows)
                if plan.progress:
                    plan.progress(written)
        await loader.finish(blog.first_post_id + plan.posts - 1)


async def seed_in_streams(engine: AsyncEngine, plan: Plan, streams: int) -> None:
    """PostgreSQL, several COPY streams (fastblog.seed.streams says how and why)."""
    async with engine.connect() as connection:
        await lock_for_schema_change(connection, SUSPENDED_TABLES)
        tags_before = set((await connection.scalars(select(Tag.id))).all())
        added = await add_users(connection, plan.users, plan.password_hash, plan.rng_seed)
        user_ids = await authors(connection, added)
        tag_ids = await add_tags(connection)
        first, last = await reserve_posts(connection, plan.posts)
        reserved = Reserved(
            first_post_id=first,
            last_post_id=last,
            added_users=tuple(added),
            created_tags=tuple(set(tag_ids.values()) - tags_before),
            indexes=tuple(await drop_indexes(connection)),
        )
        await connection.commit()
    blog = plan.blog(first_post_id=first, user_ids=user_ids, tag_ids=tag_ids, sqlite=False)
    try:
        chunks = generated(blog, plan.workers)
        async with contextlib.aclosing(chunks):  # its worker processes end with it
            await copy_in_streams(engine, chunks, streams=streams, progress=plan.progress)
        await finish(engine, reserved.indexes)
    except BaseException:
        await undo(engine, reserved)
        raise


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
