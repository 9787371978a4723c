"""The order of results on both databases: where the words are (title, then tags, then text),
then the newest; and past the window of newest matches, the same order among those."""

import httpx
import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.posts.models import Post
from fastblog.resources import Resources
from fastblog.search.engines import RANKED_MATCHES
from fastblog.search.schema import BUCKET_POSTS
from tests.factories import make_user
from tests.search.helpers import found, post_rows, posts_at, write

pytestmark = pytest.mark.anyio


async def test_title_matches_come_before_tag_matches_before_text_matches(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    # Written oldest first: the better place wins over the newer post.
    in_title = await write(client, author, title="Quince season", content="Fruit notes.")
    in_tags = await write(client, author, title="Fruit notes", tags=["quince"])
    in_text = await write(client, author, title="Orchard", content="A quince, then a quince.")

    assert await found(client, "quince") == [in_title["id"], in_tags["id"], in_text["id"]]


async def test_a_title_and_tag_match_comes_before_a_title_match(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    both = await write(client, author, title="Medlar jelly", tags=["medlar"])
    title_only = await write(client, author, title="Medlar tart", tags=["baking"])

    assert await found(client, "medlar") == [both["id"], title_only["id"]]


async def test_the_newer_post_comes_first_among_equal_matches(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    older_text = await write(client, author, title="One", content="Damson jam.")
    older_title = await write(client, author, title="Damson gin", content="Steep.")
    newer_text = await write(client, author, title="Two", content="More damson jam.")
    newer_title = await write(client, author, title="Damson cheese", content="Boil.")

    assert await found(client, "damson") == [
        newer_title["id"],
        older_title["id"],
        newer_text["id"],
        older_text["id"],
    ]


async def test_every_word_of_the_query_must_be_in_the_title_for_a_title_match(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    whole = await write(client, author, title="Rhubarb crumble", content="Oven.")
    half = await write(client, author, title="Rhubarb", content="With a crumble top.")

    assert await found(client, "crumble rhubarb") == [whole["id"], half["id"]]
    assert await found(client, '"rhubarb crumble"') == [whole["id"]]


async def test_past_the_window_the_newest_matches_are_ranked_the_same_way(
    client: httpx.AsyncClient, session: AsyncSession, resources: Resources
) -> None:
    """A word in more than RANKED_MATCHES posts: its newest RANKED_MATCHES matches are ranked
    (title first, then newest), an older match is left out, and cursors walk the window."""
    author = await make_user(session)
    old_title = await write(client, author, title="Sorrel, the oldest", content="Leaves.")
    rows = post_rows(author.id, RANKED_MATCHES + 5, "sorrel")
    async with resources.database.transaction() as loading:
        await loading.execute(insert(Post), rows)
        await loading.commit()
    new_title = await write(client, author, title="Sorrel soup", content="Green.")
    newest_text = await write(client, author, title="Greens", content="Some sorrel.")

    first = await found(client, "sorrel", limit=3)

    assert first[:2] == [new_title["id"], newest_text["id"]]
    assert old_title["id"] not in await found(client, "sorrel", limit=100)
    assert await found(client, "sorrel oldest") == [old_title["id"]]


def bucket(number: int) -> int:
    """The first post id of PostgreSQL's index bucket `number` (SQLite has none: the same
    posts, the same order)."""
    return number * BUCKET_POSTS


async def test_a_window_gathered_from_buckets_far_apart_is_the_newest_matches(
    session: AsyncSession, client: httpx.AsyncClient, resources: Resources
) -> None:
    """A word with a few matches in the newest posts and more in older ones, sought farther
    back step by step (fastblog.search.postgres): the window is still its RANKED_MATCHES
    newest matches, to the post."""
    db, author = resources.database, (await make_user(session)).id
    await posts_at(db, author, bucket(20), 1, "sorrel", title="Sorrel, just too old")
    await posts_at(db, author, bucket(20) + 1, 449, "sorrel")
    await posts_at(db, author, bucket(20) + 450, 1, "sorrel", title="Sorrel, the oldest kept")
    await posts_at(db, author, bucket(27), 500, "sorrel")
    await posts_at(db, author, bucket(30), 100, "sorrel")  # the newest posts: too few alone
    # The window: the newest 100, 500, and the newest 400 of bucket 20's 451.
    assert RANKED_MATCHES == 1_000

    first = await found(client, "sorrel", limit=100)

    oldest_kept, too_old = bucket(20) + 450, bucket(20)
    assert first[0] == oldest_kept  # in the window, and a title match
    assert too_old not in first
    assert await found(client, "sorrel too old") == [too_old]


async def test_a_rare_words_matches_are_all_ranked_however_old(
    session: AsyncSession, client: httpx.AsyncClient, resources: Resources
) -> None:
    db, author = resources.database, (await make_user(session)).id
    await posts_at(db, author, bucket(1), 1, "quince", title="Quince, the oldest")
    await posts_at(db, author, bucket(3), 300, "quince")
    await posts_at(db, author, bucket(30), 5, "quince")

    first = await found(client, "quince", limit=10)

    assert first[0] == bucket(1)
    assert first[1:] == list(range(bucket(30) + 4, bucket(30) - 1, -1)) + [
        bucket(3) + 299 - n for n in range(4)
    ]


async def test_an_authors_window_spans_the_head_and_older_buckets(
    session: AsyncSession, client: httpx.AsyncClient, resources: Resources
) -> None:
    """With an author's filter, the author's matches in the newest posts and older ones make
    the window, newest first; another author's are never in it."""
    db = resources.database
    ann, bob = (await make_user(session)).id, (await make_user(session)).id
    await posts_at(db, ann, bucket(2), 1, "medlar", title="Medlar, Ann's oldest")
    await posts_at(db, bob, bucket(5), 900, "medlar")
    await posts_at(db, ann, bucket(9), 60, "medlar")
    await posts_at(db, bob, bucket(30), 200, "medlar")
    await posts_at(db, ann, bucket(30) + 200, 50, "medlar")

    first = await found(client, "medlar", author=ann, limit=100)

    newest = [bucket(30) + 249 - n for n in range(50)]
    assert first == [bucket(2), *newest, *(bucket(9) + 59 - n for n in range(49))]
