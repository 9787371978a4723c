"""A schema change in a transaction next to the app's requests (fastblog.db.ddl): it waits for
them, they never deadlock with it, and it says so when it cannot get its locks."""

import asyncio

import anyio
import pytest
from sqlalchemy import text

from fastblog.db import Database
from fastblog.db.ddl import SchemaLockTimeoutError, lock_for_schema_change
from fastblog.resources import Resources

pytestmark = pytest.mark.anyio

COUNT_POSTS = text("SELECT count(*) FROM posts")
WAITING_FOR_TAGS = text(
    "SELECT count(*) FROM pg_locks WHERE relation = 'post_tags'::regclass"
    " AND mode = 'AccessExclusiveLock' AND NOT granted"
)


async def schema_change(db: Database) -> None:
    """What the seed and the search index rebuild do, in miniature: locks, DDL, commit."""
    async with db.transaction() as session:
        await lock_for_schema_change(session, ("posts", "post_tags"))
        await session.execute(text("CREATE INDEX ix_ddl_probe ON posts (title)"))
        await session.execute(text("DROP INDEX ix_ddl_probe"))
        await session.commit()


async def until_it_waits(db: Database) -> None:
    """Until the schema change, holding posts, waits for post_tags (PostgreSQL); SQLite's
    wait is this process's write lock, taken in turn."""
    if db.dialect.name != "postgresql":
        await asyncio.sleep(0)
        return
    with anyio.fail_after(30):
        while True:
            async with db.session() as session:
                if await session.scalar(WAITING_FOR_TAGS):
                    return
            await asyncio.sleep(0.01)


async def test_a_request_in_the_way_of_a_schema_change_is_not_deadlocked(
    resources: Resources,
) -> None:
    """A request has read post_tags; a schema change locks posts and waits for post_tags; the
    request goes on to write posts. Each would wait for the other (PostgreSQL would fail one
    after a second): the schema change must give way, and both succeed."""
    db = resources.database
    async with db.transaction() as request:
        await request.execute(text("SELECT count(*) FROM post_tags"))
        change = asyncio.create_task(schema_change(db))
        await until_it_waits(db)
        await request.execute(text("UPDATE posts SET title = title WHERE id = -1"))
        await request.commit()
    with anyio.fail_after(60):
        await change  # and it ran once the request had finished


async def test_a_schema_change_that_cannot_get_its_locks_says_why(
    resources: Resources,
) -> None:
    db = resources.database
    async with db.session() as reader:
        posts = (await reader.execute(COUNT_POSTS)).scalar_one()  # a read, still open
        async with db.transaction() as session:
            if db.dialect.name == "postgresql":
                with pytest.raises(SchemaLockTimeoutError, match='"posts", "post_tags"'):
                    await lock_for_schema_change(session, ("posts", "post_tags"), patience=0.5)
                return
            # SQLite: readers never stand in a schema change's way (WAL), nor it in theirs.
            await lock_for_schema_change(session, ("posts", "post_tags"), patience=0.5)
            await session.execute(text("CREATE INDEX ix_ddl_probe ON posts (title)"))
            await session.execute(text("DROP INDEX ix_ddl_probe"))
            await session.commit()
        assert (await reader.execute(COUNT_POSTS)).scalar_one() == posts  # and it goes on
