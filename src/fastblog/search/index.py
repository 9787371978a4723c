"""Building the search index in one go, for bulk loads and repairs.

Every write keeps the index current through triggers (fastblog.search.schema). `rebuild(db)`
repairs an index in doubt: the tags' names recomputed where they differ, then the whole index
built from the posts table at once (FTS5's 'rebuild'; CREATE INDEX on PostgreSQL), the triggers
dropped and put back in the same transaction. It holds the write lock for its duration (on
PostgreSQL, every lock on posts and post_tags, taken first: fastblog.db.ddl), so a served
blog's requests wait for it.

The triggers are never left dropped in a committed state: on SQLite (3.40), every connection
opened before such a change fails its next INSERT into posts once with "no such table: posts"
(measured with two sqlite3 connections), so a bulk load suspends them inside its own
transaction instead: `fastblog seed` suspends BULK_TRIGGERS and BULK_INDEXES in the load's
transaction, writes `tag_names` as the triggers would, and calls
`rebuild_in_transaction(connection)` once the triggers are back.
"""

import logging
import time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from fastblog.db import Database
from fastblog.db.ddl import lock_for_schema_change
from fastblog.search import schema

logger = logging.getLogger(__name__)


def _is_sqlite(db: Database) -> bool:
    return db.dialect.name == "sqlite"


def _fts5(db: Database) -> bool:
    return _is_sqlite(db) and schema.fts5_available()


def _triggers(db: Database) -> dict[str, str]:
    if not _is_sqlite(db):
        return schema.POSTGRES_TRIGGERS
    if _fts5(db):
        return {**schema.SQLITE_TRIGGERS, **schema.SQLITE_TIERS_TRIGGERS}
    return {name: sql for name, sql in schema.SQLITE_TRIGGERS.items() if "tags_named" in name}


# What the index's DDL touches (its triggers are on both), in the order the app locks them.
TABLES = ("posts", "post_tags")


async def _run(db: Database, *statements: str, ddl: bool = True) -> None:
    async with db.transaction() as session:
        if ddl:  # every lock first, or a served blog's requests deadlock with us
            await lock_for_schema_change(session, TABLES)
        for statement in statements:
            await session.execute(text(statement))
        await session.commit()


def _drops(db: Database) -> list[str]:
    sqlite = _is_sqlite(db)
    drops = [schema.drop_trigger(name, sqlite=sqlite) for name in _triggers(db)]
    if not sqlite:
        drops.append(f"DROP INDEX IF EXISTS {schema.VECTOR_INDEX}")
    return drops


def _rebuilt(db: Database) -> list[str]:
    if not _is_sqlite(db):
        return [schema.POSTGRES_TAG_NAMES_FIXED, schema.POSTGRES_VECTOR_INDEX]
    rebuilds = [schema.SQLITE_REBUILD, schema.SQLITE_TIERS_REBUILD] if _fts5(db) else []
    return [schema.SQLITE_TAG_NAMES_FIXED, *rebuilds]


async def rebuild(db: Database) -> None:
    """The whole index from the posts table, in one transaction: the triggers away (on
    SQLite, fixing a tag_names through them would ask FTS5 to forget rows it may never have
    indexed, which it cannot), tag names fixed, the triggers back, the index rebuilt."""
    started = time.perf_counter()
    fixed, *rebuilt = _rebuilt(db)
    await _run(db, *_drops(db), fixed, *_triggers(db).values(), *rebuilt)
    if not _is_sqlite(db):
        await _run(db, "ANALYZE posts", ddl=False)  # blocks neither reads nor writes
    logger.info("Search index rebuilt in %.1f s", time.perf_counter() - started)


# What fires on a bulk insert of posts and post_tags (the update and delete triggers do not).
BULK_TRIGGERS = (
    ("posts", "posts_searched_on_insert"),
    ("posts", "posts_tiered_on_insert"),
    ("post_tags", "post_tags_named_on_insert"),
)
# PostgreSQL's GIN index: one CREATE INDEX over a million vectors costs far less than a
# million insertions into it.
BULK_INDEXES = (schema.VECTOR_INDEX,)


async def rebuild_in_transaction(connection: AsyncConnection) -> None:
    """After a bulk load that wrote posts (with body_text and tag_names) and post_tags
    while BULK_TRIGGERS were suspended: FTS5's indexes built once from the posts table. On
    PostgreSQL there is nothing to do here: the inserts computed the generated tsvector
    column, and the GIN index comes back with the loader's BULK_INDEXES."""
    if connection.dialect.name == "sqlite" and schema.fts5_available():
        for table in (schema.FTS_TABLE, schema.TIERS_TABLE):
            await _rebuild_fts_merged(connection, table)


async def _rebuild_fts_merged(connection: AsyncConnection, table: str) -> None:
    """FTS5's 'rebuild' with automerge off, then one 'optimize' into a single segment:
    about a fifth less CPU than merging level by level as the rebuild writes (measured at
    100,000 posts), and the index comes out fully merged, which searches read fastest.
    The table's automerge setting is put back as it was."""
    found = await connection.exec_driver_sql(
        f"SELECT v FROM {table}_config WHERE k = 'automerge'"  # noqa: S608 (our own table)
    )
    automerge = found.scalar()
    command = f"INSERT INTO {table} ({table}, rank) VALUES (?, ?)"  # noqa: S608
    await connection.exec_driver_sql(command, ("automerge", 0))
    await connection.exec_driver_sql(f"INSERT INTO {table} ({table}) VALUES ('rebuild')")  # noqa: S608
    await connection.exec_driver_sql(f"INSERT INTO {table} ({table}) VALUES ('optimize')")  # noqa: S608
    await connection.exec_driver_sql(
        command, ("automerge", schema.FTS_AUTOMERGE if automerge is None else int(automerge))
    )
