"""PostgreSQL's road for a big seed: several COPY streams at once, one transaction each.

Why: the server computes the generated `search_vector` of every row a COPY writes (three
`to_tsvector` calls, ~430 µs a post on the development machine), in the backend that runs
the COPY. One transaction is one backend, so the one-transaction load (fastblog.seed.bulk)
uses one core of the server however fast the client is: 373 s of rows for a million posts.
Several connections are several backends computing vectors at once.

Several transactions cannot share uncommitted DDL, so this road works in four steps:

1. prepare (one short transaction, every lock first): the users and tags, the post ids
   reserved (the sequence moved past them, so a served blog's posts go after), the indexes
   DERIVED names dropped; committed. Searches of a served blog still answer meanwhile,
   without their index.
2. the streams: `streams` connections, each in its own transaction with
   `session_replication_role = replica` for that transaction only, so no trigger fires for
   the seed's rows (the counters and `tag_names`, which the seed writes itself, and the
   foreign-key checks: the seed refers only to rows prepare committed) while every other
   connection's triggers work as usual. They all commit once every chunk is written, so a
   failure while the rows are written rolls all of them back.
3. finish: the dropped indexes built at once, each on its own connection (CREATE INDEX lets
   reads through and PostgreSQL builds a GIN index in one process), then one locked
   transaction rebuilds every DERIVED structure and runs ANALYZE.
4. on any failure after prepare, undo: the reserved posts, the added users and the created
   tags deleted, the indexes put back. Only the sequence stays moved on (ids are never
   reused anyway). A seed killed outright (SIGKILL, power loss) skips undo: its indexes
   are then missing until `fastblog seed` or the search index rebuild runs again.

Setting `session_replication_role` needs a superuser (or, on PostgreSQL 15+, a role granted
SET on it): `can_stream` says whether this connection may, and the seed otherwise takes the
one-transaction road.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import bindparam, delete, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from fastblog.accounts.models import User
from fastblog.db.ddl import lock_for_schema_change
from fastblog.posts.models import Post, PostTag, Tag
from fastblog.seed.bulk import DERIVED, SUSPENDED_TABLES, PostgresLoader, after_bulk_load
from fastblog.seed.rows import POST_COLUMNS, POST_TAG_COLUMNS, PostRow, PostTagRow

Chunk = tuple[list[PostRow], list[PostTagRow]]
# Insert triggers whose work the seed's rows do themselves: post_tags' copies of its post's
# published_at and author (migrations 0008, 0023) are in POST_TAG_COLUMNS.
KEPT_BY_THE_SEED = {"post_tags_take_published_at"}
_FIRES_ON_INSERT = 1 << 2  # pg_trigger.tgtype's TRIGGER_TYPE_INSERT bit
logger = logging.getLogger(__name__)
# Each stream's transaction only: the seed's rows fire no trigger, nobody else's change.
_NO_TRIGGERS = "SET LOCAL session_replication_role = replica"
_INDEX_MEMORY = "SET LOCAL maintenance_work_mem = '256MB'"


async def can_stream(connection: AsyncConnection) -> bool:
    """Whether this role may switch triggers off for its own transactions, and every
    trigger on the seed's tables is one DERIVED rebuilds (any other would silently miss the
    seed's rows: the seed then takes the one-transaction road, which fires it)."""
    allowed = await connection.scalar(
        text(
            "SELECT current_setting('is_superuser') = 'on'"
            " OR has_parameter_privilege('session_replication_role', 'SET')"
        )
    )
    triggers = await connection.scalars(
        text(
            "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE NOT t.tgisinternal AND t.tgenabled = 'O' AND t.tgtype & :insert <> 0"
            " AND c.relname IN :tables"
        ).bindparams(
            bindparam("tables", value=list(SUSPENDED_TABLES), expanding=True),
            insert=_FIRES_ON_INSERT,
        )
    )
    rebuilt = {name for derived in DERIVED for _, name in derived.triggers}
    unknown = set(triggers.all()) - rebuilt - KEPT_BY_THE_SEED
    await connection.rollback()
    if unknown:
        logger.warning("One COPY stream: triggers the seed does not rebuild: %s", unknown)
    return bool(allowed) and not unknown


@dataclass(frozen=True)
class Reserved:
    """What prepare committed, for finish and undo."""

    first_post_id: int
    last_post_id: int
    added_users: tuple[int, ...]
    created_tags: tuple[int, ...]
    indexes: tuple[str, ...]  # the definitions of the indexes prepare dropped


async def reserve_posts(connection: AsyncConnection, posts: int) -> tuple[int, int]:
    """The ids the seed's posts get, taken from the sequence now (in prepare's transaction)."""
    first = await PostgresLoader(connection).next_post_id()
    last = first + max(posts, 1) - 1
    await connection.execute(
        text("SELECT setval(pg_get_serial_sequence('posts', 'id'), :last)"), {"last": last}
    )
    return first, last


async def drop_indexes(connection: AsyncConnection) -> list[str]:
    """The indexes DERIVED names, dropped; their definitions. The triggers stay: the
    streams' transactions do not fire them."""
    indexes_only = [replace(derived, triggers=()) for derived in DERIVED]
    return await PostgresLoader(connection).suspend(indexes_only)


async def copy_in_streams(
    engine: AsyncEngine,
    chunks: AsyncIterator[Chunk],
    *,
    streams: int,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Every chunk COPYed by one of `streams` connections; all of them commit at the end,
    or none if anything fails (the first failure is raised as itself)."""
    queue: asyncio.Queue[Chunk | None] = asyncio.Queue(maxsize=streams)
    written = 0

    async def stream(connection: AsyncConnection) -> None:
        nonlocal written
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        while (chunk := await queue.get()) is not None:
            posts, post_tags = chunk
            await driver.copy_records_to_table("posts", records=posts, columns=POST_COLUMNS)
            if post_tags:
                await driver.copy_records_to_table(
                    "post_tags", records=post_tags, columns=POST_TAG_COLUMNS
                )
            written += len(posts)
            if progress:
                progress(written)

    async with contextlib.AsyncExitStack() as opened:
        connections = [await opened.enter_async_context(engine.connect()) for _ in range(streams)]
        for connection in connections:
            await connection.exec_driver_sql(_NO_TRIGGERS)
        try:
            async with asyncio.TaskGroup() as group:
                for connection in connections:
                    group.create_task(stream(connection))
                async for chunk in chunks:
                    await queue.put(chunk)
                for _ in connections:
                    await queue.put(None)
        except BaseExceptionGroup as failed:
            raise failed.exceptions[0] from None
        # Leaving the stack without a commit rolls every stream back.
        for connection in connections:
            await connection.commit()


async def finish(engine: AsyncEngine, indexes: Sequence[str]) -> None:
    """The dropped indexes, built side by side; then every DERIVED structure rebuilt and
    the statistics refreshed in one locked transaction."""

    async def build(definition: str) -> None:
        async with engine.connect() as connection:
            await connection.exec_driver_sql(_INDEX_MEMORY)
            await connection.exec_driver_sql(definition)
            await connection.commit()

    async with asyncio.TaskGroup() as group:
        for definition in indexes:
            group.create_task(build(definition))
    async with engine.connect() as connection:
        loader = PostgresLoader(connection)
        await loader.begin()
        await after_bulk_load(loader, ())
        await connection.commit()
        await loader.settle()


def if_not_exists(definition: str) -> str:
    """pg_indexes' "CREATE [UNIQUE] INDEX name ON ..." made idempotent."""
    return definition.replace(" INDEX ", " INDEX IF NOT EXISTS ", 1)


async def undo(engine: AsyncEngine, reserved: Reserved) -> None:
    """What prepare and the streams left, taken away (see the module's docstring)."""
    async with engine.connect() as connection:
        await lock_for_schema_change(connection, SUSPENDED_TABLES)
        # Deleting a million rows without a trigger recomputing each post's tag_names first.
        await connection.exec_driver_sql(_NO_TRIGGERS)
        in_range = reserved.first_post_id, reserved.last_post_id
        await connection.execute(delete(PostTag).where(PostTag.post_id.between(*in_range)))
        await connection.execute(delete(Post).where(Post.id.between(*in_range)))
        if reserved.added_users:
            await connection.execute(delete(User).where(User.id.in_(reserved.added_users)))
        if reserved.created_tags:
            await connection.execute(delete(Tag).where(Tag.id.in_(reserved.created_tags)))
        for definition in reserved.indexes:  # finish may have built some of them already
            await connection.exec_driver_sql(if_not_exists(definition))
        await connection.commit()
