"""Where the one-post route's time goes: variants of it, measured in one run.

    .venv/bin/python -m bench.probes        # BENCH_SECONDS (5) per variant, SQLite

Serves fastblog's own app (same engine, pool and settings) plus routes that answer
the same JSON as GET /api/posts/{id} in other ways. Each variant is measured between
two ceiling runs, like `make bench`, and its aiosqlite round trips per request are
counted in a separate in-process pass. Nothing here changes src/: it is evidence.
"""

import asyncio
import collections
import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
import httpx
from fastapi import APIRouter, FastAPI, HTTPException, Request
from sqlalchemy import bindparam, select
from sqlalchemy.engine import make_url

from bench.app_bench import ceiling_body
from bench.db import fresh_database, migrate_and_seed, table_facts
from bench.load import LoadSettings, Scenario, run_load
from bench.report import markdown_table
from bench.server import install_cleanup, serving
from fastblog.accounts.models import User
from fastblog.config import Settings
from fastblog.dependencies import SessionDep
from fastblog.main import create_app as create_fastblog
from fastblog.posts.models import Post
from fastblog.posts.schemas import PostPublic

# One query with the join, as a lean read path would run it.
ONE_POST = (
    select(
        Post.id,
        Post.title,
        Post.content,
        Post.user_id,
        Post.date_posted,
        User.username,
        User.image_file,
    )
    .join(User, User.id == Post.user_id)
    .where(Post.id == bindparam("post_id"))
)
ONE_POST_SQL = (
    "SELECT p.id, p.title, p.content, p.user_id, p.date_posted, u.username, u.image_file "
    "FROM posts p JOIN users u ON u.id = p.user_id WHERE p.id = ?"
)

VARIANTS = {
    "ORM session + joinedload (the app's route)": "/api/posts/{id}",
    "no database: PostPublic from a constant": "/probe/no-db/{id}",
    "Core select through the request's AsyncSession": "/probe/session-core/{id}",
    "Core select, pooled connection per request": "/probe/core/{id}",
    "Core select, AUTOCOMMIT connection": "/probe/core-autocommit/{id}",
    "raw aiosqlite, one shared connection": "/probe/raw/{id}",
}


def to_public(row: Any) -> PostPublic:
    date_posted = row[4]
    if isinstance(date_posted, str):  # raw sqlite3 returns the stored text
        date_posted = datetime.fromisoformat(date_posted).replace(tzinfo=UTC)
    return PostPublic.model_validate(
        {
            "id": row[0],
            "title": row[1],
            "content": row[2],
            "user_id": row[3],
            "date_posted": date_posted,
            "author": {"id": row[3], "username": row[5], "image_file": row[6]},
        }
    )


def probe_router() -> APIRouter:
    router = APIRouter(prefix="/probe")
    constant = (1, "A title", "Some content " * 20, 1, datetime.now(UTC), "writer1", None)

    @router.get("/no-db/{post_id}", response_model=PostPublic)
    async def no_db(post_id: int) -> PostPublic:
        return to_public(constant)

    @router.get("/session-core/{post_id}", response_model=PostPublic)
    async def session_core(post_id: int, session: SessionDep) -> PostPublic:
        # The app's session dependency, but no ORM loading: isolates what each costs.
        row = (await session.execute(ONE_POST, {"post_id": post_id})).one_or_none()
        if row is None:
            raise HTTPException(404)
        return to_public(row)

    @router.get("/core/{post_id}", response_model=PostPublic)
    async def core(post_id: int, request: Request) -> PostPublic:
        async with request.app.state.engine.connect() as connection:
            row = (await connection.execute(ONE_POST, {"post_id": post_id})).one_or_none()
        if row is None:
            raise HTTPException(404)
        return to_public(row)

    @router.get("/core-autocommit/{post_id}", response_model=PostPublic)
    async def core_autocommit(post_id: int, request: Request) -> PostPublic:
        engine = request.app.state.engine.execution_options(isolation_level="AUTOCOMMIT")
        async with engine.connect() as connection:
            row = (await connection.execute(ONE_POST, {"post_id": post_id})).one_or_none()
        if row is None:
            raise HTTPException(404)
        return to_public(row)

    @router.get("/raw/{post_id}", response_model=PostPublic)
    async def raw(post_id: int, request: Request) -> PostPublic:
        state = request.app.state
        async with state.raw_lock:  # opened once, on first use, by one request
            if state.raw is None:
                database = make_url(state.settings.database_url).database
                state.raw = await aiosqlite.connect(database or ":memory:")
        rows = await state.raw.execute_fetchall(ONE_POST_SQL, (post_id,))
        if not rows:
            raise HTTPException(404)
        return to_public(next(iter(rows)))

    return router


def create_app(settings: Settings | None = None) -> FastAPI:
    app = create_fastblog(settings)
    app.state.raw, app.state.raw_lock = None, asyncio.Lock()
    app.include_router(probe_router())
    return app


def count_round_trips(url: str, paths: dict[str, str], ids: range) -> dict[str, float]:
    """aiosqlite thread round trips per request, by variant, counted in-process."""
    calls = collections.Counter[str]()
    original = aiosqlite.Connection._execute

    async def counting(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        calls["all"] += 1
        return await original(self, fn, *args, **kwargs)

    async def count() -> dict[str, float]:
        app = create_app(Settings(database_url=url, media_dir=Path(tempfile.mkdtemp())))
        per_request = {}
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app)
            async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
                for name, path in paths.items():
                    await client.get(path.format(id=ids[0]))  # connections opened
                    calls.clear()
                    for post_id in ids[1:51]:
                        (await client.get(path.format(id=post_id))).raise_for_status()
                    per_request[name] = calls["all"] / 50
            if app.state.raw is not None:
                await app.state.raw.close()
        return per_request

    aiosqlite.Connection._execute = counting  # type: ignore[method-assign]
    try:
        return asyncio.run(count())
    finally:
        aiosqlite.Connection._execute = original  # type: ignore[method-assign]


def interleaved(pairs: Iterator[tuple[str, float]], ceilings: list[float]) -> list[float]:
    """Each variant's requests/s over the mean of the ceiling runs around it."""
    return [rps / ((ceilings[i] + ceilings[i + 1]) / 2) for i, (_, rps) in enumerate(pairs)]


def main() -> None:
    install_cleanup()
    seconds = float(os.environ.get("BENCH_SECONDS", "5"))
    settings = LoadSettings(64, seconds)
    with fresh_database(None) as url, tempfile.TemporaryDirectory() as scratch:
        migrate_and_seed(url, users=100, posts=10_000)
        facts = table_facts(url)
        ids = range(facts["first_post"], facts["last_post"] + 1)
        trips = count_round_trips(url, VARIANTS, ids)
        env = {"DATABASE_URL": url, "LOG_LEVEL": "WARNING", "MEDIA_DIR": f"{scratch}/media"}
        with serving("bench.probes:create_app", env=env) as app:
            body = Path(scratch, "post.json")
            body.write_bytes(ceiling_body(app, url))
            ceiling_env = {"BENCH_CEILING_BODY_FILE": str(body)}
            with serving("bench.ceiling:create_app", env=ceiling_env) as top:
                ceiling = Scenario("ceiling", "/api/posts/{id}", ids=ids)
                run_load(top.base_url, ceiling, LoadSettings(64, 1))  # warm-up
                ceilings = [run_load(top.base_url, ceiling, settings).requests_per_s]
                results = {}
                for name, path in VARIANTS.items():
                    run_load(app.base_url, Scenario(name, path, ids=ids), LoadSettings(64, 1))
                    results[name] = run_load(app.base_url, Scenario(name, path, ids=ids), settings)
                    ceilings.append(run_load(top.base_url, ceiling, settings).requests_per_s)
                    print(f"  {name}: {results[name].requests_per_s:,.0f} requests/s", flush=True)
    ratios = interleaved(((n, r.requests_per_s) for n, r in results.items()), ceilings)
    rows = [
        [name, f"{trips[name]:.1f}", f"{r.requests_per_s:,.0f}", f"{ratio:.3f}", f"{r.p99_ms:.0f}"]
        for (name, r), ratio in zip(results.items(), ratios, strict=True)
    ]
    header = ["variant", "round trips", "requests/s", "ratio to ceiling", "p99 ms"]
    print(markdown_table(header, rows))
    print("ceiling runs: " + ", ".join(f"{c:,.0f}" for c in ceilings))


if __name__ == "__main__":
    main()
