"""Bulk loading: the fastest road each database has for a million rows, and the one step
after it that rebuilds what the database would otherwise have kept row by row.

- SQLite: executemany in batches of thousands, all in one transaction (BEGIN IMMEDIATE), on
  the connection's sqlite3 handle. For the load the connection runs with a large page cache,
  so the b-tree pages being filled stay in memory instead of spilling to the WAL again and
  again, and without foreign-key checks, which would look up every post's user and every
  post_tag's post and tag (the seed refers only to rows it has just read or written). Both
  are restored afterwards; foreign_keys can only change outside a transaction, hence before
  BEGIN and after COMMIT. The WAL the load grew is checkpointed and truncated at the end.
- PostgreSQL: asyncpg's binary COPY (copy_records_to_table) on the SQLAlchemy connection's
  driver connection, in one transaction that first locks the tables whose triggers and
  indexes it suspends (SUSPENDED_TABLES) against everyone else, readers too, as dropping an
  index would anyway: the post ids the seed reserves stay its own, and taking every lock at
  once, before anything else, is what keeps a served blog's requests from deadlocking with it
  (fastblog.db.ddl).

While it loads, the seed suspends the triggers that keep derived structures (DERIVED): one
bulk rebuild costs far less than a million row-by-row updates. Suspending is part of the
transaction (SQLite drops the triggers and re-creates them from their own SQL; PostgreSQL
disables and enables them), so a failed seed leaves them exactly as they were.
"""

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, Date, bindparam, cast, delete, func, insert, select, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection

from fastblog.db import utcnow
from fastblog.db.ddl import lock_for_schema_change
from fastblog.posts.models import (
    COUNT_SLOTS,
    Post,
    PostCount,
    PostTag,
    ScheduledPostCount,
    ScheduledTagPostCount,
    TagPostCount,
    UserPostCount,
    UserTagPostCount,
)
from fastblog.search import index as search_index
from fastblog.seed.rows import POST_COLUMNS, POST_TAG_COLUMNS, PostRow, PostTagRow

Rebuild = Callable[[AsyncConnection], Awaitable[None]]


@dataclass(frozen=True)
class Derived:
    """A structure the database keeps in step with the posts as rows are written: the
    triggers (and indexes) that keep it are suspended during the bulk load, and `rebuild`
    makes it whole once the rows are in."""

    name: str
    triggers: tuple[tuple[str, str], ...] = ()  # (table, trigger); missing ones are skipped
    indexes: tuple[str, ...] = ()  # dropped for the load, re-created from their definition
    rebuild: Rebuild | None = None


async def recount_posts(connection: AsyncConnection) -> None:
    """post_counts as the triggers of migrations 0005/0006 keep it: published posts, by
    slot (id modulo COUNT_SLOTS). Published is "has a published_at" (the status check
    constraint makes them the same), which the (published_at, id) index answers without
    reading a row: on SQLite, 1.5 s instead of 3.5 s for a million posts."""
    slot = (Post.id % COUNT_SLOTS).label("slot")
    await connection.execute(delete(PostCount))
    await connection.execute(
        insert(PostCount).from_select(
            ["slot", "posts"],
            select(slot, func.count()).where(Post.published_at.is_not(None)).group_by(slot),
        )
    )


def _recount(model: type[Any], key: Any, post_id: Any, published: Any) -> list[Any]:
    slot = (post_id % COUNT_SLOTS).label("slot")
    rows = select(key, slot, func.count()).where(published.is_not(None)).group_by(key, slot)
    return [delete(model), insert(model).from_select([key.key, "slot", "posts"], rows)]


async def recount_users_and_tags(connection: AsyncConnection) -> None:
    """user_post_counts and tag_post_counts as the triggers of migration 0008 keep them:
    published posts (those with a published_at) by author and by tag, by slot; a tag's from
    post_tags' own copy of published_at, with no join."""
    for statement in (
        *_recount(UserPostCount, Post.user_id, Post.id, Post.published_at),
        *_recount(TagPostCount, PostTag.tag_id, PostTag.post_id, PostTag.published_at),
    ):
        await connection.execute(statement)


async def recount_users_with_tags(connection: AsyncConnection) -> None:
    """user_tag_post_counts as the triggers of migration 0023 keep them: post_tags rows with
    a published_at and an author, by author, tag and slot."""
    slot = (PostTag.post_id % COUNT_SLOTS).label("slot")
    counted = (PostTag.published_at.is_not(None), PostTag.user_id.is_not(None))
    rows = (
        select(PostTag.user_id, PostTag.tag_id, slot, func.count())
        .where(*counted)
        .group_by(PostTag.user_id, PostTag.tag_id, slot)
    )
    await connection.execute(delete(UserTagPostCount))
    await connection.execute(
        insert(UserTagPostCount).from_select(["user_id", "tag_id", "slot", "posts"], rows)
    )


def _utc_day(connection: AsyncConnection, published_at: Any) -> Any:
    """published_at's UTC day, as migration 0030's triggers write it."""
    if connection.dialect.name == "sqlite":  # UTC text: its first ten characters
        return func.substr(published_at, 1, 10)
    return cast(func.timezone("UTC", published_at), Date)


async def recount_scheduled(connection: AsyncConnection) -> None:
    """scheduled_post_counts and scheduled_tag_post_counts as the triggers of migration 0030
    keep them: the published posts (those with a published_at) still ahead of now, by UTC
    day, and by tag and day from post_tags' own copy of published_at. Every row written:
    at a million posts the seed schedules ~3,000 over the coming weeks."""
    now = utcnow()
    for model, keys in (
        (ScheduledPostCount, (Post.published_at,)),
        (ScheduledTagPostCount, (PostTag.tag_id, PostTag.published_at)),
    ):
        *group, published_at = keys
        day = _utc_day(connection, published_at).label("day")
        rows = (
            select(*group, day, func.count())
            .where(published_at > bindparam("now", now, type_=Post.published_at.type))
            .group_by(*group, day)
            .order_by(*group, day)  # a tag's days side by side (see migration 0030's fill)
        )
        names = [*(column.key for column in group), "day", "posts"]
        await connection.execute(delete(model))
        await connection.execute(insert(model).from_select(names, rows))


async def move_page_version(connection: AsyncConnection) -> None:
    """page_versions moved once, as migration 0031's triggers move it for any write of
    posts: a page a served blog's process kept before the load is rendered again."""
    await connection.execute(
        text(
            "INSERT INTO page_versions (slot, changes) VALUES (0, 1)"
            " ON CONFLICT (slot) DO UPDATE SET changes = page_versions.changes + 1"
        )
    )


_EVENTS = ("insert", "update", "delete")  # migration 0031's SQLite triggers, one per event

# What the seed suspends while it loads and rebuilds after (after_bulk_load).
DERIVED: tuple[Derived, ...] = (
    Derived(
        "post counts",
        triggers=(("posts", "posts_counted_on_insert"),),
        rebuild=recount_posts,
    ),
    Derived(
        "user and tag counts",
        triggers=(
            ("posts", "user_posts_counted_on_insert"),
            ("post_tags", "tag_posts_counted_on_tagging"),
        ),
        # A tag's page's index: built once after the load, not entry by entry in tag order.
        indexes=("ix_post_tags_tag_id_published_at_post_id",),
        rebuild=recount_users_and_tags,
    ),
    Derived(
        "user-and-tag counts",
        triggers=(("post_tags", "user_tag_posts_counted_on_tagging"),),
        # A user's posts with a tag: their index, built once after the load too.
        indexes=("ix_post_tags_user_id_tag_id_published_at_post_id",),
        rebuild=recount_users_with_tags,
    ),
    Derived(
        "scheduled posts' day counts",
        triggers=(
            ("posts", "posts_ahead_counted_on_insert"),
            ("post_tags", "waiting_tag_posts_counted_on_insert"),
        ),
        rebuild=recount_scheduled,
    ),
    # One move for the whole load, not one per row (a million queued events on PostgreSQL,
    # whose triggers run at commit).
    Derived(
        "public pages' version",
        triggers=(
            *(("posts", f"posts_page_versioned_on_{event}") for event in _EVENTS),
            *(("post_tags", f"post_tags_page_versioned_on_{event}") for event in _EVENTS),
            ("posts", "posts_page_versioned"),  # PostgreSQL's
            ("post_tags", "post_tags_page_versioned"),
        ),
        rebuild=move_page_version,
    ),
    # The seed writes posts.body_text and posts.tag_names itself (fastblog.seed.rows), so
    # the search index needs no row-by-row work: FTS5 is built once, PostgreSQL's GIN index
    # re-created once (its tsvector column is computed by the inserts).
    Derived(
        "search index",
        triggers=search_index.BULK_TRIGGERS,
        indexes=search_index.BULK_INDEXES,
        rebuild=search_index.rebuild_in_transaction,
    ),
)

# The tables whose triggers and indexes DERIVED names, in the order the app's own
# transactions lock them (a post, then its tags).
SUSPENDED_TABLES = ("posts", "post_tags")

SQLITE_LOAD_PRAGMAS = {
    "cache_size": -262_144,  # KiB: 256 MiB of pages for the load
    "foreign_keys": 0,
}
SQLITE_LOAD_JOURNAL = "delete"
SQLITE_ANALYSIS_LIMIT = 2_000  # rows ANALYZE samples per index: seconds saved, plans the same


class Loader:
    """One database's way to write the seed's rows, on a connection in a transaction."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    @contextlib.asynccontextmanager
    async def tuned(self) -> AsyncIterator[None]:
        yield

    async def begin(self) -> None:
        raise NotImplementedError

    async def next_post_id(self) -> int:
        raise NotImplementedError

    async def write(self, posts: list[PostRow], post_tags: list[PostTagRow]) -> None:
        raise NotImplementedError

    async def finish(self, last_post_id: int) -> None:
        """After the rows, before after_bulk_load."""

    async def suspend(self, derived: Sequence[Derived]) -> list[str]:
        """Suspend the triggers and indexes `derived` names; the SQL that restores them."""
        raise NotImplementedError

    async def analyze(self) -> None:
        await self.connection.execute(text("ANALYZE"))

    async def settle(self) -> None:
        """After the commit."""

    async def driver(self) -> Any:
        raw = await self.connection.get_raw_connection()
        return raw.driver_connection


class SQLiteLoader(Loader):
    @contextlib.asynccontextmanager
    async def tuned(self) -> AsyncIterator[None]:
        saved: dict[str, int] = {}
        for name, value in SQLITE_LOAD_PRAGMAS.items():
            saved[name] = (await self.connection.exec_driver_sql(f"PRAGMA {name}")).scalar_one()
            await self.connection.exec_driver_sql(f"PRAGMA {name}={int(value)}")
        journal = await self._journal_for_the_load()
        try:
            yield
        finally:
            if journal != SQLITE_LOAD_JOURNAL:
                await self._journal(journal)
            for name, value in saved.items():
                await self.connection.exec_driver_sql(f"PRAGMA {name}={int(value)}")

    async def _journal(self, mode: str) -> str:
        return str((await self.connection.exec_driver_sql(f"PRAGMA journal_mode={mode}")).scalar())

    async def _journal_for_the_load(self) -> str:
        """The journal mode to restore. In WAL, every page the load writes (4.4 GB for a
        million posts) goes to the WAL first and is copied into the database again by the
        checkpoint. A rollback journal keeps only the pages the load changes that were
        there before (new pages need no undo): the rows are written once, and a failed
        load still rolls back. Leaving WAL takes the database to ourselves: with a served
        blog's connections open, the load stays in WAL."""
        mode = str((await self.connection.exec_driver_sql("PRAGMA journal_mode")).scalar())
        if mode.lower() != "wal":
            return SQLITE_LOAD_JOURNAL
        with contextlib.suppress(sa_exc.OperationalError):  # "database is locked"
            await self._journal(SQLITE_LOAD_JOURNAL)
        return mode

    async def begin(self) -> None:
        await self.connection.exec_driver_sql("BEGIN IMMEDIATE")

    async def next_post_id(self) -> int:
        # AUTOINCREMENT: never below the highest id ever used, even if since deleted.
        used = await self.connection.exec_driver_sql(
            "SELECT max(coalesce((SELECT max(id) FROM posts), 0),"
            " coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'posts'), 0))"
        )
        return int(used.scalar_one()) + 1

    async def write(self, posts: list[PostRow], post_tags: list[PostTagRow]) -> None:
        driver = await self.driver()
        for table, columns, rows in (
            ("posts", POST_COLUMNS, posts),
            ("post_tags", POST_TAG_COLUMNS, post_tags),
        ):
            marks = ", ".join("?" * len(columns))
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608 (our own names)
            await (await driver.executemany(sql, rows)).close()

    async def suspend(self, derived: Sequence[Derived]) -> list[str]:
        names = [trigger for item in derived for _, trigger in item.triggers]
        names += [index for item in derived for index in item.indexes]
        if not names:
            return []
        found = (
            await self.connection.execute(
                text("SELECT type, name, sql FROM sqlite_master WHERE name IN :names").bindparams(
                    _names(names)
                )
            )
        ).all()
        for kind, name, _ in found:
            await self.connection.exec_driver_sql(f'DROP {kind.upper()} "{name}"')
        return [sql for _, _, sql in found]

    async def analyze(self) -> None:
        await self.connection.exec_driver_sql(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}")
        await self.connection.exec_driver_sql("ANALYZE")
        await self.connection.exec_driver_sql("PRAGMA analysis_limit=0")

    async def settle(self) -> None:
        # The load went through the WAL; copy it into the database and give the space back.
        await self.connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        await self.connection.commit()


# COPY leaves every page's all-visible bit unset, and until a VACUUM sets them an index-only
# scan still reads the row of each entry it counts: every list's count of scheduled posts
# (posts' published_at index) and every tag's (post_tags') read ~3,000 rows at a million
# posts, 174 ms cold, 0.9 ms once vacuumed. Autovacuum gets there minutes after the load;
# the seed does it at once (5 s for a million posts).
VACUUMED_AFTER_LOAD = ("posts", "post_tags")


async def vacuum_loaded_tables(connection: AsyncConnection) -> None:
    """VACUUM the loaded tables on a connection with no transaction open (VACUUM runs in
    none: the connection is switched to autocommit)."""
    await connection.execution_options(isolation_level="AUTOCOMMIT")
    for table in VACUUMED_AFTER_LOAD:
        await connection.exec_driver_sql(f'VACUUM "{table}"')


class PostgresLoader(Loader):
    async def settle(self) -> None:
        await vacuum_loaded_tables(self.connection)

    async def begin(self) -> None:
        # Everyone else waits until the seed commits: the ids it reserves below stay its own,
        # and the DDL of suspend() needs no lock it does not hold already.
        await lock_for_schema_change(self.connection, SUSPENDED_TABLES)
        # For the index builds of after_bulk_load (a GIN index, say).
        await self.connection.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")

    async def next_post_id(self) -> int:
        used = await self.connection.exec_driver_sql(
            "SELECT greatest(coalesce((SELECT max(id) FROM posts), 0),"
            " (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END"
            "  FROM posts_id_seq))"
        )
        return int(used.scalar_one()) + 1

    async def write(self, posts: list[PostRow], post_tags: list[PostTagRow]) -> None:
        driver = await self.driver()
        await driver.copy_records_to_table("posts", records=posts, columns=POST_COLUMNS)
        if post_tags:
            await driver.copy_records_to_table(
                "post_tags", records=post_tags, columns=POST_TAG_COLUMNS
            )

    async def finish(self, last_post_id: int) -> None:
        await self.connection.execute(
            text("SELECT setval(pg_get_serial_sequence('posts', 'id'), :last)"),
            {"last": last_post_id},
        )

    async def suspend(self, derived: Sequence[Derived]) -> list[str]:
        restore: list[str] = []
        triggers = [pair for item in derived for pair in item.triggers]
        existing = {
            (table, name)
            for table, name in (
                await self.connection.execute(
                    text(
                        "SELECT c.relname, t.tgname FROM pg_trigger t"
                        " JOIN pg_class c ON c.oid = t.tgrelid WHERE t.tgname IN :names"
                    ).bindparams(_names([name for _, name in triggers] or [""]))
                )
            ).all()
        }
        for table, name in triggers:
            if (table, name) in existing:
                await self.connection.exec_driver_sql(
                    f'ALTER TABLE "{table}" DISABLE TRIGGER "{name}"'
                )
                restore.append(f'ALTER TABLE "{table}" ENABLE TRIGGER "{name}"')
        indexes = [index for item in derived for index in item.indexes]
        if indexes:
            for name, definition in (
                await self.connection.execute(
                    text(
                        "SELECT indexname, indexdef FROM pg_indexes WHERE indexname IN :names"
                    ).bindparams(_names(indexes))
                )
            ).all():
                await self.connection.exec_driver_sql(f'DROP INDEX "{name}"')
                restore.append(definition)
        return restore


def _names(names: list[str]) -> BindParameter[Any]:
    return bindparam("names", value=names, expanding=True)


def loader_for(connection: AsyncConnection) -> Loader:
    sqlite = connection.dialect.name == "sqlite"
    return SQLiteLoader(connection) if sqlite else PostgresLoader(connection)


async def after_bulk_load(loader: Loader, restore: Sequence[str]) -> None:
    """Once the rows are in, in the load's transaction: the suspended triggers and indexes
    come back, every suspended structure is rebuilt in one pass, and the planner's
    statistics are refreshed (ANALYZE) for tables that grew by a million rows."""
    for statement in restore:
        await loader.connection.exec_driver_sql(statement)
    for derived in DERIVED:
        if derived.rebuild is not None:
            await derived.rebuild(loader.connection)
    await loader.analyze()


@contextlib.asynccontextmanager
async def bulk_load(connection: AsyncConnection) -> AsyncIterator[Loader]:
    """A transaction to load rows in: tuned, with DERIVED suspended; committed after
    after_bulk_load, or rolled back whole."""
    loader = loader_for(connection)
    async with loader.tuned():
        await loader.begin()
        try:
            restore = await loader.suspend(DERIVED)
            yield loader
            await after_bulk_load(loader, restore)
            await connection.commit()
        except BaseException:
            await connection.rollback()
            raise
    await loader.settle()
