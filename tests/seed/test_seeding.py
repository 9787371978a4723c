"""`fastblog seed` on a real database: what it writes is a blog the app serves, with every
derived table (counters, tags, sequences, planner statistics) as the app would have it."""

import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, pool, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from fastblog.config import Settings
from fastblog.models import Post, PostCount, PostTag, Tag, TagPostCount, User, UserPostCount
from fastblog.posts.models import (
    COUNT_SLOTS,
    PUBLISHED,
    ScheduledPostCount,
    ScheduledTagPostCount,
)
from fastblog.seed import bulk, seed
from fastblog.seed.bulk import Derived
from fastblog.seed.vocabulary import TAGS
from tests.conftest import make_settings
from tests.factories import login
from tests.html import read_page
from tests.migrated import migrated_postgres, migrated_sqlite, postgres_url_of
from tests.seed.conftest import serving

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


async def counters_and_recount(
    connection: AsyncConnection,
) -> tuple[dict[int, int], dict[int, int]]:
    kept = {
        slot: n for slot, n in await connection.execute(select(PostCount.slot, PostCount.posts))
    }
    slot = Post.id % COUNT_SLOTS
    recount = {
        slot: n
        for slot, n in await connection.execute(
            select(slot, func.count()).where(Post.status == PUBLISHED).group_by(slot)
        )
    }
    return {slot: n for slot, n in kept.items() if n}, recount


async def assert_user_and_tag_counts_agree(connection: AsyncConnection) -> None:
    """The counters of migration 0008 against a recount, and post_tags' copy of published_at
    against the posts'."""
    published = Post.status == PUBLISHED
    for counter, key, recount in [
        (
            UserPostCount,
            UserPostCount.user_id,
            select(Post.user_id, func.count()).where(published).group_by(Post.user_id),
        ),
        (
            TagPostCount,
            TagPostCount.tag_id,
            select(PostTag.tag_id, func.count())
            .join(Post, Post.id == PostTag.post_id)
            .where(published)
            .group_by(PostTag.tag_id),
        ),
    ]:
        kept_rows = await connection.execute(select(key, func.sum(counter.posts)).group_by(key))
        kept = {k: n for k, n in kept_rows.all() if n}
        assert kept == dict((await connection.execute(recount)).all())
    copies = select(func.count()).select_from(PostTag).join(Post, Post.id == PostTag.post_id)
    differ = PostTag.published_at.is_distinct_from(Post.published_at)
    assert await connection.scalar(copies.where(differ)) == 0
    assert await connection.scalar(copies.where(PostTag.published_at.is_not(None))) > 0
    await assert_scheduled_counts_agree(connection)


async def scheduled_ahead(connection: AsyncConnection) -> tuple[dict[object, int], ...]:
    """The day counters of migration 0030 for the days after today (what a total reads), and
    the same recounted from posts and post_tags: by day, and by (tag id, day)."""
    today = datetime.now(UTC).date()
    tomorrow = datetime.combine(today, time(), UTC) + timedelta(days=1)
    kept: dict[object, int] = {}
    for day, n in await connection.execute(
        select(ScheduledPostCount.day, ScheduledPostCount.posts).where(
            ScheduledPostCount.day > today
        )
    ):
        kept[day] = n
    for tag_id, day, n in await connection.execute(
        select(
            ScheduledTagPostCount.tag_id, ScheduledTagPostCount.day, ScheduledTagPostCount.posts
        ).where(ScheduledTagPostCount.day > today)
    ):
        kept[tag_id, day] = n
    recount: Counter[object] = Counter()
    ahead = select(Post.published_at).where(Post.published_at >= tomorrow)
    for (at,) in await connection.execute(ahead):
        recount[at.astimezone(UTC).date()] += 1
    for tag_id, at in await connection.execute(
        select(PostTag.tag_id, PostTag.published_at).where(PostTag.published_at >= tomorrow)
    ):
        recount[tag_id, at.astimezone(UTC).date()] += 1
    return {key: n for key, n in kept.items() if n}, dict(recount)


async def assert_scheduled_counts_agree(connection: AsyncConnection) -> None:
    kept, recount = await scheduled_ahead(connection)
    assert kept == recount


async def test_a_seeded_blog_has_counters_tags_and_ids_as_the_app_keeps_them(
    settings: Settings, connection: AsyncConnection
) -> None:
    await seed(settings, users=4, posts=700, now=NOW, workers=1)

    users = await connection.scalar(select(func.count()).select_from(User))
    posts = await connection.scalar(select(func.count()).select_from(Post))
    assert (users, posts) == (4, 700)
    kept, recount = await counters_and_recount(connection)
    assert kept == recount
    await assert_user_and_tag_counts_agree(connection)
    assert (
        sum(kept.values())
        == await connection.scalar(
            select(func.count()).select_from(Post).where(Post.status == PUBLISHED)
        )
        < 700
    ), "a few are drafts"
    tag_names = set((await connection.scalars(select(Tag.name))).all())
    assert tag_names == set(TAGS)
    per_post = (
        await connection.execute(select(PostTag.post_id, func.count()).group_by(PostTag.post_id))
    ).all()
    assert 300 < len(per_post) < 700
    assert max(count for _, count in per_post) <= 5
    usernames = (await connection.scalars(select(User.username))).all()
    assert all("writer" not in name for name in usernames)
    await connection.rollback()

    # Seeding again adds other posts after the first ones; the counters still agree.
    await seed(settings, users=0, posts=300, now=NOW, workers=1)
    kept, recount = await counters_and_recount(connection)
    assert kept == recount
    await assert_user_and_tag_counts_agree(connection)
    titles = (await connection.scalars(select(Post.title).order_by(Post.id))).all()
    assert len(titles) == 1000
    assert titles[:300] != titles[700:], "a second seed writes other posts"
    assert set((await connection.scalars(select(Tag.name))).all()) == set(TAGS)
    await connection.rollback()


async def test_a_seed_counts_its_scheduled_posts_by_day(
    settings: Settings, connection: AsyncConnection
) -> None:
    """The seed writes without the day counters' triggers (migration 0030), then recounts:
    the posts it schedules over the coming month are left out of the totals."""
    await seed(settings, users=3, posts=2000, now=datetime.now(UTC), workers=1)

    kept, recount = await scheduled_ahead(connection)
    assert kept == recount
    assert recount, "the seed schedules a few posts (3 in 1,024)"
    visible = await connection.scalar(
        select(func.count()).select_from(Post).where(Post.published_at <= datetime.now(UTC))
    )
    await connection.rollback()
    async with serving(settings) as client:
        listed = await client.get("/api/posts", params={"limit": 1})
    assert listed.json()["total"] == visible


async def blog_rows(url: str) -> list[tuple[object, ...]]:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(Post.id, Post.title, Post.content, Post.published_at, User.username)
                .join(User)
                .order_by(Post.id)
            )
            return [tuple(row) for row in rows]
    finally:
        await engine.dispose()


@pytest.fixture
def twin(settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    """A second empty database on the same server."""
    if settings.is_sqlite:
        url = migrated_sqlite(tmp_path / "twin.db")
        yield make_settings(url, tmp_path / "twin-media")
        return
    with migrated_postgres() as name:
        yield make_settings(postgres_url_of(name), tmp_path / "twin-media")


async def test_the_same_random_seed_gives_the_same_blog(settings: Settings, twin: Settings) -> None:
    await seed(settings, users=3, posts=150, now=NOW, workers=1)
    await seed(twin, users=3, posts=150, now=NOW, workers=1)

    assert await blog_rows(settings.database_url) == await blog_rows(twin.database_url)


async def test_the_seeded_blog_answers_its_pages_and_api(settings: Settings) -> None:
    await seed(settings, users=5, posts=300, workers=1)
    async with serving(settings) as client:
        listed = await client.get("/api/posts", params={"limit": 5})
        assert listed.status_code == 200
        post = listed.json()["posts"][0]
        assert listed.json()["total"] > 280
        home = read_page(await client.get("/"))
        assert home.has_link(post["title"])
        article = await client.get(home.link(post["title"]).path)
        assert article.status_code == 200
        assert post["excerpt"][:40] in read_page(article).text
        tags = (await client.get("/api/tags")).json()["tags"]
        urls = [
            f"/api/posts/{post['id']}",
            f"/api/users/{post['user_id']}/posts",
            f"/users/{post['user_id']}/posts",
            "/posts?page=2",
            "/feed.xml",
            "/sitemap.xml",
            f"/tags/{tags[0]['name']}",
        ]
        for url in urls:
            assert (await client.get(url)).status_code == 200, url

        # The counters' triggers are back: a new post counts, and takes the next id.
        headers = await login(client, {"id": post["user_id"]})
        created = await client.post(
            "/api/posts", json={"title": "After the seed", "content": "Hello."}, headers=headers
        )
        assert created.status_code == 201
        assert created.json()["id"] > max(p["id"] for p in listed.json()["posts"])
        again = await client.get("/api/posts", params={"limit": 1})
        assert again.json()["total"] == listed.json()["total"] + 1
        assert {tag["name"] for tag in tags} <= set(TAGS)
        assert len(tags) > 50


async def test_a_served_blogs_kept_tag_list_shows_what_a_seed_adds(settings: Settings) -> None:
    """The seed writes without the counters' triggers, then recounts: a tag list an app
    kept from before (fastblog.posts.tag_list_cache) must not outlive it."""
    async with serving(settings) as client:
        assert (await client.get("/api/tags")).json() == {"tags": []}
        await seed(settings, users=2, posts=100, workers=1)
        tags = (await client.get("/api/tags")).json()["tags"]
        assert len(tags) > 10, tags


class Interrupted(Exception):
    pass


def interrupt(written: int) -> None:
    raise Interrupted(written)


async def test_a_seed_that_fails_midway_leaves_the_database_as_it_was(
    settings: Settings, connection: AsyncConnection
) -> None:
    await seed(settings, users=2, posts=30, workers=1)
    before = await counters_and_recount(connection)
    await connection.rollback()

    with pytest.raises(Interrupted):
        await seed(settings, users=2, posts=20, workers=1, progress=interrupt)

    assert await connection.scalar(select(func.count()).select_from(Post)) == 30
    assert await connection.scalar(select(func.count()).select_from(User)) == 2
    assert await counters_and_recount(connection) == before
    await connection.rollback()
    # The suspended counter trigger is still there: a post written now is counted.
    user_id = await connection.scalar(select(func.min(User.id)))
    await connection.execute(
        Post.__table__.insert().values(title="t", content="c", user_id=user_id)
    )
    await connection.commit()
    kept, recount = await counters_and_recount(connection)
    assert kept == recount
    assert sum(kept.values()) == sum(before[0].values()) + 1


PROBE_TABLES = (
    "CREATE TABLE probe_log (post_id BIGINT)",
    "CREATE TABLE probe_total (posts BIGINT)",
    "CREATE INDEX ix_probe_posts_title ON posts (title)",
)
SQLITE_PROBE = """
CREATE TRIGGER probe_on_insert AFTER INSERT ON posts BEGIN
  INSERT INTO probe_log (post_id) VALUES (NEW.id);
END
"""
POSTGRES_PROBE = (
    """
    CREATE FUNCTION probe_log_post() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN INSERT INTO probe_log (post_id) VALUES (NEW.id); RETURN NULL; END $$
    """,
    """
    CREATE TRIGGER probe_on_insert AFTER INSERT ON posts
    FOR EACH ROW EXECUTE FUNCTION probe_log_post()
    """,
)


async def rebuild_probe(connection: AsyncConnection) -> None:
    await connection.exec_driver_sql("DELETE FROM probe_total")
    await connection.exec_driver_sql("INSERT INTO probe_total SELECT count(*) FROM posts")


async def test_a_registered_structure_is_suspended_during_the_load_and_rebuilt_once(
    settings: Settings, connection: AsyncConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """How the search index plugs in: a row trigger on posts (here one that logs every
    insert) named in DERIVED does not fire for the seed's rows; its rebuild runs once after
    the load, and the trigger is back for the posts written after."""
    for statement in (
        *PROBE_TABLES,
        *((SQLITE_PROBE,) if settings.is_sqlite else POSTGRES_PROBE),
    ):
        await connection.exec_driver_sql(statement)
    await connection.commit()
    probe = Derived(
        "probe",
        triggers=(("posts", "probe_on_insert"),),
        indexes=("ix_probe_posts_title",),
        rebuild=rebuild_probe,
    )
    monkeypatch.setattr(bulk, "DERIVED", (*bulk.DERIVED, probe))

    await seed(settings, users=2, posts=120, workers=1)

    assert await connection.scalar(text("SELECT count(*) FROM probe_log")) == 0
    assert await connection.scalar(text("SELECT posts FROM probe_total")) == 120
    user_id = await connection.scalar(select(func.min(User.id)))
    await connection.execute(
        Post.__table__.insert().values(title="t", content="c", user_id=user_id)
    )
    await connection.commit()
    assert await connection.scalar(text("SELECT count(*) FROM probe_log")) == 1
    indexes = await connection.run_sync(lambda sync: inspect(sync).get_indexes("posts"))
    assert ["title"] in [i["column_names"] for i in indexes if i["name"] == "ix_probe_posts_title"]


SEARCH_TRIGGERS = {
    "sqlite": {
        "posts_searched_on_insert",
        "posts_searched_on_update",
        "posts_searched_on_delete",
        "post_tags_named_on_insert",
        "post_tags_named_on_delete",
    },
    "postgresql": {"post_tags_named_on_insert", "post_tags_named_on_delete"},
}
# What the search triggers would have written in posts.tag_names (fastblog.search.schema):
# the seed writes it itself, and must write exactly this.
STALE_TAG_NAMES = {
    "sqlite": "SELECT count(*) FROM posts WHERE tag_names IS NOT coalesce(("
    "SELECT group_concat(tags.name, ' ') FROM post_tags JOIN tags ON tags.id = post_tags.tag_id "
    "WHERE post_tags.post_id = posts.id), '')",
    "postgresql": "SELECT count(*) FROM posts WHERE tag_names IS DISTINCT FROM coalesce(("
    "SELECT string_agg(tags.name, ' ' ORDER BY tags.name) FROM post_tags "
    "JOIN tags ON tags.id = post_tags.tag_id WHERE post_tags.post_id = posts.id), '')",
}
WORD_OF = re.compile(r"[a-z]+")


async def enabled_search_triggers(connection: AsyncConnection) -> set[str]:
    if connection.dialect.name == "sqlite":
        names = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    else:
        names = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled = 'O'"
    found = set((await connection.scalars(text(names))).all())
    return found & SEARCH_TRIGGERS[connection.dialect.name]


def rarest_word(text_: str, shares: Counter[str]) -> str:
    return min(WORD_OF.findall(text_.lower()), key=lambda word: (shares[word], word))


async def test_search_finds_seeded_posts_by_title_and_body_words(
    settings: Settings, connection: AsyncConnection
) -> None:
    """The seed writes body_text and tag_names and builds the search index once: a reader
    finds a seeded post by a word of its title and by a word of its text, the index agrees
    with the posts, and every search trigger and index is back for the posts written after."""
    dialect = connection.dialect.name
    await seed(settings, users=3, posts=400, workers=1)

    assert await connection.scalar(text(STALE_TAG_NAMES[dialect])) == 0
    assert await connection.scalar(select(func.count()).where(Post.tag_names != "")) > 100
    if dialect == "sqlite":
        # FTS5's own check of the index against the posts table (rank 1: the contents too).
        await connection.exec_driver_sql(
            "INSERT INTO posts_search (posts_search, rank) VALUES ('integrity-check', 1)"
        )
    else:
        indexes = await connection.run_sync(lambda sync: inspect(sync).get_indexes("posts"))
        assert "ix_posts_search_vector" in {index["name"] for index in indexes}
    assert await enabled_search_triggers(connection) == SEARCH_TRIGGERS[dialect]
    visible = (
        await connection.execute(
            select(Post.id, Post.title, Post.body_text)
            .where(Post.status == PUBLISHED, Post.published_at <= datetime.now(UTC))
            .order_by(Post.id.desc())
            .limit(50)
        )
    ).all()
    all_texts = (await connection.execute(select(Post.title, Post.body_text))).all()
    shares = Counter(
        word
        for title_, body in all_texts
        for word in set(WORD_OF.findall(f"{title_} {body}".lower()))
    )
    await connection.rollback()
    post_id, title_, body_text = visible[10]
    title_word, body_word = rarest_word(title_, shares), rarest_word(body_text, shares)
    assert title_word not in WORD_OF.findall(body_text.lower()) or shares[title_word] < 20

    async with serving(settings) as client:
        for word in (title_word, body_word):
            response = await client.get("/api/search", params={"q": word, "limit": 100})
            assert response.status_code == 200, response.text
            assert post_id in [post["id"] for post in response.json()["posts"]], word

        # The triggers are back: a post written now is found at once.
        user_id = await connection.scalar(select(func.min(User.id)))
        await connection.rollback()
        created = await client.post(
            "/api/posts",
            json={"title": "Zyzzyva after the seed", "content": "A *quokkaesque* word."},
            headers=await login(client, {"id": user_id}),
        )
        assert created.status_code == 201
        for word in ("zyzzyva", "quokkaesque"):
            found = (await client.get("/api/search", params={"q": word})).json()["posts"]
            assert [post["id"] for post in found] == [created.json()["id"]], word
