"""The index stays true to the posts through every kind of write, and can be rebuilt."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from alembic import command
from sqlalchemy import delete, insert, pool, select, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from fastblog.accounts.models import User
from fastblog.cli import alembic_config, upgrade_database
from fastblog.db import Database
from fastblog.posts.models import Post
from fastblog.resources import Resources
from fastblog.search.engines import Filters
from fastblog.search.index import rebuild
from fastblog.search.like import LikeEngine
from fastblog.search.query import parse
from fastblog.search.service import marked
from tests.apps import create_app
from tests.asgi import asgi_transport, resources_of, started
from tests.conftest import make_settings
from tests.factories import make_user
from tests.search.helpers import edit, found, post_rows, write

pytestmark = pytest.mark.anyio


async def assert_index_matches_the_posts(db: Database) -> None:
    """SQLite: FTS5's own check of both indexes against the posts table. PostgreSQL: every
    post's tag_names (its tsvector is a generated column: always its row's)."""
    async with db.transaction() as session:
        if db.dialect.name == "sqlite":
            for table in ("posts_search", "posts_tiers"):
                await session.execute(
                    text(f"INSERT INTO {table} ({table}, rank) VALUES ('integrity-check', 1)")
                )
        stale = await session.scalar(
            text(
                "SELECT count(*) FROM posts WHERE tag_names <> coalesce(("
                "SELECT group_concat(name, ' ') FROM (SELECT tags.name FROM post_tags "
                "JOIN tags ON tags.id = post_tags.tag_id WHERE post_tags.post_id = posts.id "
                "ORDER BY tags.name) AS names), '')"
                if db.dialect.name == "sqlite"
                else "SELECT count(*) FROM posts WHERE tag_names <> coalesce(("
                "SELECT string_agg(name, ' ' ORDER BY name) FROM post_tags "
                "JOIN tags ON tags.id = post_tags.tag_id WHERE post_tags.post_id = posts.id), '')"
            )
        )
        await session.rollback()
    # SQLite's group_concat keeps no order: compare the names as sets there.
    if db.dialect.name != "sqlite":
        assert stale == 0


async def tag_names(session: AsyncSession, post_id: int) -> set[str]:
    names = await session.scalar(select(Post.tag_names).where(Post.id == post_id))
    await session.commit()  # ends the read: the next one sees later writes
    return set((names or "").split())


async def test_every_write_keeps_the_index_true(
    client: httpx.AsyncClient, session: AsyncSession, resources: Resources
) -> None:
    db = resources.database
    ann, bob = await make_user(session), await make_user(session)
    kept = await write(client, ann, title="Kept", content="Cabbage", tags=["a", "b", "c"])
    gone = await write(client, ann, title="Gone", content="Cabbage", tags=["a", "d"])
    await write(client, bob, title="Bob's", content="Cabbage", tags=["b"])
    await edit(client, ann, kept["id"], tags=["c", "e"], content="Cabbage and kale")
    assert await tag_names(session, kept["id"]) == {"c", "e"}

    await edit(client, ann, gone["id"], tags=[])
    assert await tag_names(session, gone["id"]) == set()
    await assert_index_matches_the_posts(db)

    # A deleted account takes its posts (and their tags) with it.
    await session.execute(delete(User).where(User.id == bob.id))
    await session.commit()
    await assert_index_matches_the_posts(db)
    assert sorted(await found(client, "cabbage")) == sorted([kept["id"], gone["id"]])
    assert await found(client, "kale") == [kept["id"]]
    assert await found(client, "e") == [kept["id"]]


async def test_rebuild_repairs_stale_tag_names(migrated_database_url: str, tmp_path: Path) -> None:
    """On an app and a database of its own: the rebuild changes the schema (its triggers), and
    on SQLite 3.40 a connection that had not yet written a post before such a change fails
    its first INSERT into posts once ("no such table: posts"); the session app's idle pool
    would hand that failure to a later test."""
    app = create_app(make_settings(migrated_database_url, tmp_path / "media"))
    async with (
        started(app),
        httpx.AsyncClient(transport=asgi_transport(app), base_url="http://testserver") as client,
        resources_of(app).database.session() as session,
    ):
        database = resources_of(app).database
        author = await make_user(session)
        post = await write(client, author, title="Tagged", tags=["celeriac"])
        await session.execute(text("UPDATE posts SET tag_names = 'wrong'"))
        await session.commit()
        assert await found(client, "celeriac") == []

        await rebuild(database)

        assert await found(client, "celeriac") == [post["id"]]
        await assert_index_matches_the_posts(database)


async def test_the_like_fallback_finds_the_same_posts(
    client: httpx.AsyncClient, session: AsyncSession, resources: Resources
) -> None:
    """Meant for a SQLite without FTS5; its SQL runs on both databases, so it is tested on both."""
    db = resources.database
    author = await make_user(session)
    title = await write(client, author, title="Chard <b>", content="Green.")
    body = await write(client, author, title="Greens", content="Swiss chard & <i>spinach</i>.")
    await write(client, author, title="Spinach only", content="Spinach.")
    await write(client, author, title="Chard draft", status="draft")

    async def like(q: str) -> list[dict[str, Any]]:
        return await LikeEngine().page(
            db, parse(q), filters=Filters(), now=datetime.now(UTC), skip=0, limit=10, full=True
        )

    rows = await like("chard")
    assert [row["id"] for row in rows] == [title["id"], body["id"]]
    assert (
        marked(rows[1]["snippet"]) == "Swiss <mark>chard</mark> &amp; &lt;i&gt;spinach&lt;/i&gt;."
    )
    assert [row["id"] for row in await like("chard -spinach")] == [title["id"]]
    assert [row["id"] for row in await like('"swiss chard" or "100%"')] == [body["id"]]


async def test_the_migration_indexes_existing_posts(fresh_database_url: str) -> None:
    config = alembic_config(fresh_database_url)
    await anyio.to_thread.run_sync(command.upgrade, config, "8a1d4c6e2f90")  # before search
    engine = create_async_engine(fresh_database_url, poolclass=pool.NullPool)
    postgres = "postgresql" in fresh_database_url
    written = datetime(2026, 3, 3, 9, 0, tzinfo=UTC) if postgres else "2026-03-03 09:00:00.000000"
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text("INSERT INTO users (username, email, password_hash) VALUES ('a', 'a@x', 'h')")
            )
            await connection.execute(
                text(
                    "INSERT INTO posts (title, slug, content, content_html, excerpt, status, "
                    "published_at, updated_at, date_posted, user_id) VALUES ('Old post', 'old', "
                    "'Some **okra** in [a link](https://example.com/hidden).', '', '', "
                    "'published', :at, :at, :at, 1)"
                ),
                {"at": written},
            )
            await connection.execute(text("INSERT INTO tags (name) VALUES ('vegetables')"))
            await connection.execute(text("INSERT INTO post_tags (post_id, tag_id) VALUES (1, 1)"))

        await anyio.to_thread.run_sync(upgrade_database, fresh_database_url)

        async with engine.connect() as connection:
            row = (await connection.execute(text("SELECT body_text, tag_names FROM posts"))).one()
            if postgres:
                match = "search_vector @@ to_tsquery('english', :q)"
                where = f"SELECT id FROM posts WHERE {match}"
            else:
                where = "SELECT rowid FROM posts_search WHERE posts_search MATCH :q"
            hits = {
                q: (await connection.execute(text(where), {"q": q})).scalars().all()
                for q in ("okra", "vegetables", "link", "hidden")
            }
            tier_vector = None
            if postgres:  # what its ranking reads: the title's words (A), then the tags' (B)
                tiers = await connection.execute(text("SELECT tier_vector FROM posts"))
                tier_vector = tiers.scalar()
    finally:
        await engine.dispose()
    assert tuple(row) == ("Some okra in a link.", "vegetables")
    assert hits == {"okra": [1], "vegetables": [1], "link": [1], "hidden": []}
    assert tier_vector == ("'old':1A 'post':2A 'veget':3B" if postgres else None)


async def test_a_very_common_word_is_ranked_among_its_newest_matches(
    client: httpx.AsyncClient, session: AsyncSession, resources: Resources
) -> None:
    """Past RANKED_MATCHES matches, only the newest are scored (the cost stays bounded):
    the best of those comes first, and an older post is found with a rarer word."""
    from fastblog.search.engines import RANKED_MATCHES

    author = await make_user(session)
    old = await write(client, author, title="Lettuce, the oldest", content="Lettuce.")
    rows = post_rows(author.id, RANKED_MATCHES + 5, "lettuce")
    async with resources.database.transaction() as loading:
        await loading.execute(insert(Post), rows)
        await loading.commit()
    newest = await write(client, author, title="Lettuce, the newest", content="Romaine.")

    page = await found(client, "lettuce", limit=5)

    assert page[0] == newest["id"]  # its title matches: first among the scored
    assert old["id"] not in await found(client, "lettuce", limit=100)
    assert await found(client, "lettuce oldest") == [old["id"]]


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_new_posts_wait_in_a_short_pending_list(
    session: AsyncSession, resources: Resources
) -> None:
    """Every search reads the GIN index's pending list whole: a few hundred new posts' words
    stay within 128 kB of it (16 pages), where PostgreSQL's default would keep 4 MB."""
    from fastblog.search import schema

    author = await make_user(session)
    rows = post_rows(author.id, 300, "radicchio")
    for number, row in enumerate(rows):  # ~200 words of their own each: a real post's spread
        row["body_text"] = " ".join(f"w{number}x{word}" for word in range(200))
    async with resources.database.transaction() as loading:
        await loading.execute(text("CREATE EXTENSION IF NOT EXISTS pgstattuple"))
        await loading.commit()
    try:
        for row in rows:  # one post a transaction, as the app writes them
            async with resources.database.transaction() as writing:
                await writing.execute(insert(Post), [row])
                await writing.commit()
        async with resources.database.transaction() as reading:
            pending = await reading.scalar(
                text(f"SELECT pending_pages FROM pgstatginindex('{schema.VECTOR_INDEX}')")
            )
    finally:
        async with resources.database.transaction() as cleaning:
            await cleaning.execute(text("DROP EXTENSION IF EXISTS pgstattuple"))
            await cleaning.commit()
    assert pending is not None
    assert pending <= schema.PENDING_LIST_KB // 8, pending


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_full_text_indexes_merge_eight_segments_of_a_level(
    resources: Resources,
) -> None:
    """FTS5's automerge setting, as migration 0028 leaves it on both indexes (at FTS5's
    default of 4, a million-post index was rewritten within a few thousand new posts:
    fastblog.search.schema.FTS_AUTOMERGE)."""
    async with resources.database.session() as session:
        for table in ("posts_search", "posts_tiers"):
            setting = await session.scalar(
                text(f"SELECT v FROM {table}_config WHERE k = 'automerge'")
            )
            assert setting == 8, table
