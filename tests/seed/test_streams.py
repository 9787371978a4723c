"""`fastblog seed` on PostgreSQL through several COPY streams (fastblog.seed.streams): the
same blog as the one-transaction road, every derived structure whole, and a failure that
leaves the database as it was."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from fastblog.config import Settings
from fastblog.models import Post, Tag, User
from fastblog.seed import seed
from tests.conftest import make_settings
from tests.factories import login
from tests.migrated import migrated_postgres, postgres_url_of
from tests.seed.conftest import serving
from tests.seed.test_seeding import (
    POSTGRES_PROBE,
    PROBE_TABLES,
    STALE_TAG_NAMES,
    Interrupted,
    assert_user_and_tag_counts_agree,
    blog_rows,
    counters_and_recount,
    enabled_search_triggers,
    interrupt,
)

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
# Small chunks, so that a few hundred posts make several chunks for the streams to share.
CHUNK = 40
INDEXES = {"ix_posts_search_vector", "ix_post_tags_tag_id_published_at_post_id"}


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    with migrated_postgres() as name:
        yield make_settings(postgres_url_of(name), tmp_path / "media")


@pytest.fixture
def twin(tmp_path: Path) -> Iterator[Settings]:
    with migrated_postgres() as name:
        yield make_settings(postgres_url_of(name), tmp_path / "twin-media")


async def index_names(connection: AsyncConnection) -> set[str]:
    names = await connection.scalars(
        text("SELECT indexname FROM pg_indexes WHERE tablename IN ('posts', 'post_tags')")
    )
    return set(names.all())


async def test_streams_write_the_blog_one_transaction_writes(
    settings: Settings, twin: Settings, connection: AsyncConnection
) -> None:
    await seed(settings, users=3, posts=400, now=NOW, workers=1, streams=3, chunk_posts=CHUNK)
    await seed(twin, users=3, posts=400, now=NOW, workers=1, streams=1, chunk_posts=CHUNK)

    assert await blog_rows(settings.database_url) == await blog_rows(twin.database_url)
    kept, recount = await counters_and_recount(connection)
    assert kept == recount
    await assert_user_and_tag_counts_agree(connection)
    assert await connection.scalar(text(STALE_TAG_NAMES["postgresql"])) == 0
    assert await index_names(connection) >= INDEXES
    assert await enabled_search_triggers(connection) == {
        "post_tags_named_on_insert",
        "post_tags_named_on_delete",
    }
    next_id = await connection.scalar(text("SELECT nextval(pg_get_serial_sequence('posts', 'id'))"))
    assert next_id == 401
    # The planner knows the table grew (ANALYZE, then the VACUUM after the commit). At least
    # the 400 rows, not exactly: VACUUM counts the versions the load's rebuild replaced while
    # another snapshot may still see them (autovacuum's, on a loaded machine: 506 seen).
    estimate = await connection.scalar(
        text("SELECT reltuples FROM pg_class WHERE relname = 'posts'")
    )
    assert estimate >= 400
    # Vacuumed: every list's count of scheduled posts is answered by the index alone.
    scheduled_count = await connection.scalar(
        text(
            "EXPLAIN (ANALYZE, FORMAT JSON) SELECT count(*) FROM posts"
            " WHERE published_at > :now AND published_at < 'infinity'"
        ),
        {"now": NOW},
    )
    await connection.rollback()
    assert _heap_fetches(scheduled_count[0]["Plan"]) == [0]


def _heap_fetches(plan: dict[str, Any]) -> list[int]:
    """The rows an index-only scan had to read, for each such scan in the plan."""
    own = [plan["Heap Fetches"]] if "Heap Fetches" in plan else []
    return own + [n for child in plan.get("Plans", ()) for n in _heap_fetches(child)]


async def test_a_streamed_blog_is_found_by_search_and_counts_new_posts(
    settings: Settings, connection: AsyncConnection
) -> None:
    await seed(settings, users=2, posts=200, now=NOW, workers=1, streams=2, chunk_posts=CHUNK)
    post_id, title, user_id = (
        await connection.execute(
            select(Post.id, Post.title, Post.user_id)
            .where(Post.published_at <= NOW)
            .order_by(Post.id.desc())
            .limit(1)
        )
    ).one()
    await connection.rollback()
    word = max(title.split(), key=len).strip(".,:;!?").lower()

    async with serving(settings) as client:
        found = (await client.get("/api/search", params={"q": word, "limit": 100})).json()
        assert post_id in [post["id"] for post in found["posts"]], word
        before = (await client.get(f"/api/users/{user_id}/posts")).json()["total"]
        created = await client.post(
            "/api/posts",
            json={"title": "Written after the streams", "content": "Counted."},
            headers=await login(client, {"id": user_id}),
        )
        assert created.status_code == 201
        assert created.json()["id"] == 201
        after = (await client.get(f"/api/users/{user_id}/posts")).json()["total"]
        assert after == before + 1


async def test_a_served_blogs_kept_tag_list_shows_what_the_streams_add(
    settings: Settings,
) -> None:
    """The streams write with no trigger at all; the recount that follows moves the
    version of the tag list an app kept (fastblog.posts.tag_list_cache)."""
    async with serving(settings) as client:
        assert (await client.get("/api/tags")).json() == {"tags": []}
        await seed(settings, users=2, posts=200, workers=1, streams=2, chunk_posts=CHUNK)
        tags = (await client.get("/api/tags")).json()["tags"]
        assert len(tags) > 10, tags


async def test_a_streamed_seed_that_fails_midway_leaves_the_database_as_it_was(
    settings: Settings, connection: AsyncConnection
) -> None:
    await seed(settings, users=2, posts=100, now=NOW, workers=1, streams=2, chunk_posts=CHUNK)
    before = await counters_and_recount(connection)
    tags = await connection.scalar(select(func.count()).select_from(Tag))
    indexes = await index_names(connection)
    await connection.rollback()

    with pytest.raises(Interrupted):
        await seed(
            settings,
            users=2,
            posts=400,
            workers=1,
            streams=2,
            chunk_posts=CHUNK,
            progress=interrupt,
        )

    assert await connection.scalar(select(func.count()).select_from(Post)) == 100
    assert await connection.scalar(select(func.count()).select_from(User)) == 2
    assert await connection.scalar(select(func.count()).select_from(Tag)) == tags
    assert await counters_and_recount(connection) == before
    assert await index_names(connection) == indexes
    await connection.rollback()
    indexes_of_posts = await connection.run_sync(
        lambda sync: {index["name"] for index in inspect(sync).get_indexes("posts")}
    )
    assert "ix_posts_search_vector" in indexes_of_posts


async def test_an_insert_trigger_the_seed_does_not_rebuild_keeps_it_on_one_transaction(
    settings: Settings, connection: AsyncConnection
) -> None:
    """The streams fire no trigger: one the seed knows nothing of would miss its rows, so
    the seed takes the one-transaction road, where it fires for every post."""
    for statement in (*PROBE_TABLES[:1], *POSTGRES_PROBE):
        await connection.exec_driver_sql(statement)
    await connection.commit()

    await seed(settings, users=2, posts=120, workers=1, streams=2, chunk_posts=CHUNK)

    assert await connection.scalar(text("SELECT count(*) FROM probe_log")) == 120
    await connection.rollback()
