"""The post watcher's look for posts to announce (fastblog.posts.visibility) as each database
plans it: every process runs it at every poll, so it must read the posts still to announce,
never the blog's published posts."""

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.db.compiled import compile_query
from fastblog.posts.visibility import DUE
from fastblog.resources import Resources
from tests.factories import make_posts, make_user
from tests.posts.test_list_plans import plan, sqlite_steps

# Plans depend on the tables' pages: each test starts from new, empty tables.
pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("fresh_tables")]

# Far ahead: the post still to announce is due at the look's `now` but not yet by the clock,
# so the session app's own post watcher (which looks with the real time) cannot announce it
# between its commit and the look. Every other post is long published by then.
NOW = datetime(2100, 12, 1, tzinfo=UTC)
DUE_BY_NOW_ONLY = datetime(2100, 1, 1, tzinfo=UTC)


@pytest.mark.usefixtures("forget_statistics")
async def test_the_look_for_posts_to_announce_reads_only_those(
    resources: Resources, session: AsyncSession
) -> None:
    """One post still to announce, then 600 posts that need no announcement (the seed's, an
    import's, or announced long ago): the look finds the one by the partial index
    ix_posts_announce_pending and costs what it cost before the 600. (Written as
    `announce_pending IS 1`, which SQLite does not take for the index's `announce_pending`, it
    walked every post published up to now: ~1 s at a million posts, at every poll.)"""
    author = await make_user(session)
    [pending] = await make_posts(session, author, 1, start=DUE_BY_NOW_ONLY)
    pending.announce_pending = True
    await session.commit()
    database = resources.database
    query = compile_query(DUE, database.engine.dialect)
    values = {"now": NOW, "batch": 100}
    alone = (
        sqlite_steps(str(database.engine.url.database), query.sql, query.parameters(values))
        if database.engine.dialect.name == "sqlite"
        else 0
    )

    await make_posts(session, author, 600)

    assert [row["id"] for row in await database.fetch(DUE, values)] == [pending.id]
    async with database.engine.begin() as connection:
        await connection.exec_driver_sql("ANALYZE")
    # (Sorts allowed on PostgreSQL: the partial index holds no id for the order's tie-break.)
    text = await plan(resources, DUE, sorts_too=False, values=values)
    assert "ix_posts_announce_pending" in text, text
    if database.engine.dialect.name == "sqlite":
        assert "ix_posts_published_at_id" not in text, text
        assert "SCAN posts" not in text, text
        path = str(database.engine.url.database)
        among_600 = sqlite_steps(path, query.sql, query.parameters(values))
        assert among_600 <= 2 * alone + 1, (alone, among_600)
    else:
        assert "Seq Scan on posts" not in text, text
