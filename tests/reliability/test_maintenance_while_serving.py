"""Maintenance commands against the database a server is serving: no 5xx, no broken connection.

An operator runs `fastblog db upgrade` (at head: nothing to do), `fastblog seed` (its bulk
load drops and re-creates triggers and an index, rebuilds the search index and runs ANALYZE:
schema changes, on SQLite in the very file the server has open) and the search index's
repair (`fastblog.search.index.rebuild`, DDL again) while a server answers readers and
writers, one after the other, and the load goes on throughout. The seed, the longest and the
one that changes most, runs as the installed command in a process of its own, as from a shell.
`db upgrade` (tests.processes.fastblog_in_process) and the repair run in the test's process:
another process than the server's all the same, whose connections see their changes as they
would a shell's. An interpreter and the app's imports for each (1 CPU-s, 1-2 s of the load)
were most of their time, and no request in flight then met a change.

On SQLite every connection the server holds sees the schema change on its next statement
(SQLite then re-reads the schema and re-prepares), so what this guards against is a server
connection that was idle across a change and then fails: "no such table", "vtable constructor
failed" (FTS5 reconnecting to its table) or "disk I/O error". None may reach a client as a
5xx or the server's log; every acknowledged write must be in the database afterwards, with
the counters and the search index agreeing with the rows.
"""

import asyncio
import contextlib
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from fastblog.config import Settings
from fastblog.db import Database, utcnow
from fastblog.posts.models import Post, PostCount
from fastblog.search.index import rebuild
from tests.conftest import make_settings
from tests.factories import login_through_endpoint
from tests.processes import FASTBLOG, fastblog_env, fastblog_in_process
from tests.reliability.server import server_env, serving
from tests.reliability.test_concurrent_writers import own_client
from tests.social.helpers import drifted_counts

pytestmark = pytest.mark.anyio

WRITERS = 2  # accounts, one writing client each
READERS = 2
SEEDED_POSTS = 200
COMMAND_TIMEOUT = 120.0
# What a server connection broken by another process's schema change says (SQLite).
BROKEN = ("no such table", "vtable constructor failed", "disk I/O error", "database is locked")
SEED = [FASTBLOG, "seed", "--users", "3", "--posts", str(SEEDED_POSTS), "--workers", "1"]
COMMANDS = ("db upgrade", "seed", "search index rebuild, ANALYZE")


async def rebuild_and_analyze(settings: Settings) -> None:
    """The search index's repair and a fresh ANALYZE, as an operator would run them from a
    Python shell (there is no command for them)."""
    db = Database.open(settings)
    try:
        await rebuild(db)
        async with db.transaction() as session:
            await session.execute(text("ANALYZE"))
            await session.commit()
    finally:
        await db.close()


@dataclass
class Tally:
    answered: Counter[str] = field(default_factory=Counter)  # "GET /search" -> count
    failed: Counter[str] = field(default_factory=Counter)  # what went wrong, with the route
    created: dict[int, str] = field(default_factory=dict)  # post id -> its unique word
    deleted: set[int] = field(default_factory=set)
    retagged: dict[int, str] = field(default_factory=dict)  # post id -> its acknowledged tag
    answered_spans: list[tuple[float, float]] = field(default_factory=list)  # monotonic times
    commands_ran: dict[str, tuple[float, float]] = field(default_factory=dict)

    def during(self) -> dict[str, int]:
        """Per command, the requests answered that were in flight while it ran.

        Overlap, not "finished while it ran": `db upgrade` at head can be over before a
        request on a loaded machine finishes, and a request the server was serving while
        the command ran is what the check is about.
        """
        return {
            name: sum(1 for began, ended in self.answered_spans if began < end and ended > start)
            for name, (start, end) in self.commands_ran.items()
        }


@dataclass
class Load:
    tally: Tally
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    deleted_one: asyncio.Event = field(default_factory=asyncio.Event)

    async def call(
        self,
        client: httpx.AsyncClient,
        method: str,
        url: str,
        expected: int,
        route: str,
        **kwargs: object,
    ) -> httpx.Response | None:
        began = time.monotonic()
        try:
            response = await client.request(method, url, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            self.tally.failed[f"{route}: {exc!r}"] += 1
            return None
        if response.status_code != expected:
            self.tally.failed[f"{route}: {response.status_code} {response.text[:200]}"] += 1
            return None
        self.answered(route, began)
        return response

    def answered(self, route: str, began: float) -> None:
        self.tally.answered[route] += 1
        self.tally.answered_spans.append((began, time.monotonic()))


async def reader(load: Load, client: httpx.AsyncClient, number: int) -> None:
    n = 0
    while not load.stop.is_set():
        n += 1
        await load.call(client, "GET", "/", 200, "GET /")
        page = await load.call(client, "GET", "/api/posts", 200, "GET /api/posts")
        await load.call(client, "GET", "/search", 200, "GET /search", params={"q": "word"})
        await load.call(client, "GET", "/api/tags", 200, "GET /api/tags")
        if page is not None and page.json()["posts"]:
            posts = page.json()["posts"]
            post_id = posts[(n + number) % len(posts)]["id"]
            # A writer may have deleted it meanwhile: a 404 is a right answer then.
            began = time.monotonic()
            try:
                response = await client.get(f"/posts/{post_id}", follow_redirects=True)
            except httpx.HTTPError as exc:
                load.tally.failed[f"GET post page: {exc!r}"] += 1
                continue
            if response.status_code in (200, 404):
                load.answered("GET post page", began)
            else:
                load.tally.failed[f"GET post page: {response.status_code}"] += 1


async def writer(
    load: Load, client: httpx.AsyncClient, number: int, headers: dict[str, str]
) -> None:
    n = 0
    mine: list[int] = []
    while not load.stop.is_set():
        n += 1
        word = f"zq{number}x{n}w"  # one word FTS5 and PostgreSQL both keep whole
        body = {"title": f"Note {word}", "content": f"Body of {word}.", "tags": ["shared", word]}
        created = await load.call(
            client, "POST", "/api/posts", 201, "POST /api/posts", json=body, headers=headers
        )
        if created is None:
            continue
        post_id = created.json()["id"]
        load.tally.created[post_id] = word
        mine.append(post_id)
        # A new set of tags: post_tags rows deleted and inserted (their triggers re-index).
        tag = f"t{number}x{n}"
        if await load.call(
            client,
            "PATCH",
            f"/api/posts/{post_id}",
            200,
            "PATCH /api/posts/{id}",
            json={"tags": ["shared", tag]},
            headers=headers,
        ):
            load.tally.retagged[post_id] = tag
        target = mine[len(mine) // 2]
        await load.call(client, "POST", f"/api/posts/{target}/like", 200, "like", headers=headers)
        await load.call(
            client,
            "POST",
            f"/api/posts/{target}/comments",
            201,
            "comment",
            json={"body": f"A comment on {target}"},
            headers=headers,
        )
        if n % 3 == 0:
            victim = mine.pop(0)
            if await load.call(
                client, "DELETE", f"/api/posts/{victim}", 204, "DELETE", headers=headers
            ):
                load.tally.deleted.add(victim)
                load.deleted_one.set()


async def run_commands(load: Load, database_url: str, folder: Path) -> dict[str, str]:
    """Each command in turn; what each printed, if it failed. The load stops after the last."""
    failures: dict[str, str] = {}

    def ran(name: str, start: float, status: int | None, output: str) -> None:
        load.tally.commands_ran[name] = (start, time.monotonic())
        if status != 0:
            failures[name] = output[-2000:]

    try:
        settings = make_settings(database_url, folder / "media")
        start = time.monotonic()
        status, out, err = await fastblog_in_process(settings, "db", "upgrade")
        ran("db upgrade", start, status, out + err)

        start = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            *SEED,
            cwd=folder,
            env=fastblog_env(database_url),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(process.communicate(), COMMAND_TIMEOUT)
        ran("seed", start, process.returncode, output.decode(errors="replace"))

        start = time.monotonic()
        await rebuild_and_analyze(settings)
        ran("search index rebuild, ANALYZE", start, 0, "")
    finally:
        await some_post_deleted(load, within=15.0)
        load.stop.set()
    return failures


async def some_post_deleted(load: Load, *, within: float) -> None:
    """The checks afterwards search for a deleted post, and each writer deletes one post in
    three: on a fast machine the commands could be over before any writer's third."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(load.deleted_one.wait(), within)


TAG_COUNTS_VS_ROWS = text(
    "SELECT tags.name,"
    " (SELECT coalesce(sum(posts), 0) FROM tag_post_counts WHERE tag_id = tags.id),"
    " (SELECT count(*) FROM post_tags JOIN posts ON posts.id = post_id"
    "  WHERE tag_id = tags.id AND posts.status = 'published')"
    " FROM tags"
)
FTS5_INTEGRITY_CHECK = text(
    "INSERT INTO posts_search (posts_search, rank) VALUES ('integrity-check', 1)"
)


@dataclass
class Stored:
    """What the database itself says after the load."""

    post_ids: set[int]
    visible: int  # published, and not scheduled for later
    published: int
    counted: int  # the site's post counter
    drifted: dict[str, list[Any]]  # counters that disagree with a recount of their rows
    tags_drifted: list[tuple[Any, ...]]


async def stored(database_url: str) -> Stored:
    engine = create_async_engine(database_url)
    published = Post.status == "published"
    try:
        async with engine.connect() as connection:
            if connection.dialect.name == "sqlite":  # raises if FTS5 disagrees with posts
                await connection.execute(FTS5_INTEGRITY_CHECK)
            tag_rows = (await connection.execute(TAG_COUNTS_VS_ROWS)).all()
            return Stored(
                post_ids=set((await connection.scalars(select(Post.id))).all()),
                visible=await connection.scalar(
                    select(func.count()).where(published, Post.published_at <= utcnow())
                )
                or 0,
                published=await connection.scalar(select(func.count()).where(published)) or 0,
                counted=await connection.scalar(select(func.sum(PostCount.posts))) or 0,
                drifted=await drifted_counts(connection),
                tags_drifted=[tuple(row) for row in tag_rows if row[1] != row[2]],
            )
    finally:
        await engine.dispose()


async def test_maintenance_commands_while_serving(fresh_database_url: str, tmp_path: Path) -> None:
    env = server_env(
        fresh_database_url,
        tmp_path / "media",
        log_level="INFO",
        access_log="true",  # every status in the log too
        db_pool_size=5,
        db_max_overflow=5,
        write_rate_limits=False,  # a few writers write more than 10 posts a minute
    )
    tally = Tally()
    load = Load(tally)
    async with (
        serving(env, tmp_path / "server.log") as server,
        contextlib.AsyncExitStack() as stack,
    ):

        async def client() -> httpx.AsyncClient:
            return await stack.enter_async_context(own_client(server.url))

        tokens = []
        for number in range(WRITERS):
            own = await client()
            account = {
                "username": f"maint{number}",
                "email": f"maint{number}@example.com",
                "password": f"maintenance-password-{number}",
            }
            assert (await own.post("/api/users", json=account)).status_code == 201
            tokens.append(await login_through_endpoint(own, account["email"], account["password"]))
        started = time.monotonic()
        clients = [await client() for _ in range(WRITERS + READERS)]
        work = [
            *(writer(load, clients[n], n, tokens[n]) for n in range(WRITERS)),
            *(reader(load, clients[WRITERS + n], n) for n in range(READERS)),
        ]
        failures, *_ = await asyncio.gather(run_commands(load, fresh_database_url, tmp_path), *work)
        seconds = time.monotonic() - started

        # Afterwards, through the same server: its counts and its search agree with the rows.
        check = await client()
        total = (await check.get("/api/posts")).json()["total"]
        survivors = {post_id: word for post_id, word in tally.created.items()}
        for post_id in tally.deleted:
            survivors.pop(post_id)
        newest = max(survivors)
        found_new = await search(check, survivors[newest])
        tagged = await check.get("/api/posts", params={"tag": tally.retagged.get(newest, "-")})
        assert tally.deleted, "no post was deleted under the load"
        found_gone = await search(check, tally.created[min(tally.deleted)])
    log = server.log()
    after = await stored(fresh_database_url)

    print(
        f"\n{fresh_database_url.split(':')[0]}: {sum(tally.answered.values())} requests in"
        f" {seconds:.1f} s; during each command: {tally.during()};"
        f" {len(tally.created)} posts written, {len(tally.deleted)} deleted;"
        f" failed: {tally.failed.most_common(5)}; commands failed: {sorted(failures)}"
    )
    assert failures == {}, failures
    assert tally.failed == Counter(), tally.failed.most_common(5)
    assert all(tally.during().values()), f"the load ran while every command ran: {tally.during()}"
    assert set(tally.commands_ran) == set(COMMANDS)
    broken = [line for line in log.splitlines() if any(b in line for b in BROKEN)]
    assert broken == [], broken
    assert "Traceback" not in log, log
    assert re.findall(r'HTTP/1\.1" 5\d\d.*', log) == []
    # Every acknowledged write is there, and nothing else but the seed's posts.
    assert after.post_ids & set(tally.created) == set(survivors)
    assert len(after.post_ids) == len(survivors) + SEEDED_POSTS
    assert after.published == after.counted
    assert after.drifted == {}
    assert after.tags_drifted == []
    assert total == after.visible
    # The newest post is found by its word and by the tag its edit gave it; a deleted one is not.
    assert found_new == [newest]
    assert [post["id"] for post in tagged.json()["posts"]] == [newest]
    assert found_gone == []


async def search(client: httpx.AsyncClient, q: str) -> list[int]:
    response = await client.get("/api/search", params={"q": q})
    assert response.status_code == 200, response.text
    return [post["id"] for post in response.json()["posts"]]
