"""The seed's rows, chunk by chunk: a pure function of (the blog, the chunk's number), so
chunks can be made in any process, in any order, and always come out the same.

Rows are tuples in the column order of POST_COLUMNS, ready for the driver: SQLite gets its
timestamps as the text SQLAlchemy stores ("2026-12-01 18:59:45.123456", UTC), PostgreSQL
gets aware datetimes for asyncpg's binary COPY.
"""

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from fastblog.posts.models import DRAFT, PUBLISHED
from fastblog.seed.prose import corpus_bits, post_text
from fastblog.seed.vocabulary import slot_table, zipf_weights

CHUNK_POSTS = 5_000
POST_COLUMNS = (
    "id",
    "title",
    "slug",
    "date_posted",
    "content",
    "content_html",
    "excerpt",
    "status",
    "published_at",
    "updated_at",
    "user_id",
    "body_text",
    "tag_names",
)
# post_tags keeps copies of its post's published_at and author (migrations 0008, 0023):
# written here, so the trigger that would copy them row by row has nothing to do.
POST_TAG_COLUMNS = ("post_id", "tag_id", "published_at", "user_id")
YEARS = 6  # the posts are spread over the last six years
AUTHOR_ZIPF = 0.8  # a few prolific writers, many occasional ones
# Out of 1,024 posts: drafts, posts scheduled for the coming weeks, posts edited later.
DRAFTS = 8
SCHEDULED = 3
EDITED = 100
SPECIAL = DRAFTS + SCHEDULED + EDITED

PostRow = tuple[Any, ...]
PostTagRow = tuple[int, int, Any, int]


@dataclass(frozen=True)
class Blog:
    """What every chunk needs to know; sent once to each worker process."""

    rng_seed: int
    posts: int
    first_post_id: int
    user_ids: tuple[int, ...]
    tag_ids: dict[str, int]
    now: datetime
    sqlite: bool
    years: int = YEARS
    chunk_posts: int = CHUNK_POSTS

    @cached_property
    def authors(self) -> tuple[int, ...]:
        bits = max(10, (4 * len(self.user_ids)).bit_length())
        return slot_table(self.user_ids, zipf_weights(len(self.user_ids), AUTHOR_ZIPF), bits)

    @cached_property
    def tag_rank(self) -> dict[str, int]:
        """The order of a post's tags in `posts.tag_names`, as the search index's own SQL
        writes them (fastblog.search.schema): by id on SQLite (its group_concat follows
        post_tags' primary key), by name on PostgreSQL (string_agg ORDER BY name; the
        names are ASCII, so byte order is every collation's order)."""
        key = self.tag_ids.__getitem__ if self.sqlite else str
        return {tag: rank for rank, tag in enumerate(sorted(self.tag_ids, key=key))}

    @property
    def chunks(self) -> int:
        return -(-self.posts // self.chunk_posts)


def _sqlite_text(moment: datetime) -> str:
    # SQLAlchemy's SQLite DateTime text: UTC without the offset, six digits of microseconds.
    return moment.isoformat(" ", "microseconds")[:26]


def _as_is(moment: datetime) -> datetime:
    return moment


def chunk_rows(blog: Blog, chunk: int) -> tuple[list[PostRow], list[PostTagRow]]:
    """The chunk's posts (and their tags): the same for the same blog. The first post id
    is part of the random seed, so seeding again adds other posts."""
    rng = random.Random(f"{blog.rng_seed}/{blog.first_post_id}/{chunk}")
    first = chunk * blog.chunk_posts
    count = min(blog.chunk_posts, blog.posts - first)
    span = timedelta(days=365 * blog.years)
    start = blog.now - span
    step = span / max(blog.posts, 1)
    stamp = _sqlite_text if blog.sqlite else _as_is
    authors = blog.authors
    author_bits = (len(authors) - 1).bit_length()
    tag_ids = blog.tag_ids
    tag_rank = blog.tag_rank.__getitem__
    bits = corpus_bits(blog.posts)
    posts: list[PostRow] = []
    post_tags: list[PostTagRow] = []
    for index in range(first, first + count):
        post_id = blog.first_post_id + index
        text = post_text(rng, bits)
        written = start + step * (index + rng.random())
        status, published, updated = _publication(rng, blog.now, written)
        written_at = stamp(written)
        published_at = written_at if published is written else published and stamp(published)
        author = authors[rng.getrandbits(author_bits) % len(authors)]
        posts.append(
            (
                post_id,
                text.title,
                text.slug,
                written_at,
                text.content,
                text.content_html,
                text.excerpt,
                status,
                published_at,
                written_at if updated is written else stamp(updated),
                author,
                text.body_text,
                " ".join(sorted(text.tags, key=tag_rank)),
            )
        )
        post_tags.extend((post_id, tag_ids[tag], published_at, author) for tag in text.tags)
    return posts, post_tags


def _publication(
    rng: random.Random, now: datetime, written: datetime
) -> tuple[str, datetime | None, datetime]:
    """Status, publication time and last update of a post written at `written`."""
    roll = rng.getrandbits(10)
    if roll >= SPECIAL:
        return PUBLISHED, written, written
    if roll < DRAFTS:
        return DRAFT, None, written
    if roll < DRAFTS + SCHEDULED:
        return PUBLISHED, now + timedelta(hours=rng.randint(1, 24 * 30)), written
    edited = written + timedelta(minutes=rng.randint(10, 60 * 24 * 90))
    return PUBLISHED, written, min(edited, now)


# -- worker processes: the blog is sent once, then only chunk numbers ---------------------

_worker_blog: Blog | None = None


def start_worker(blog: Blog) -> None:
    global _worker_blog
    _worker_blog = blog


def worker_chunk(chunk: int) -> tuple[list[PostRow], list[PostTagRow]]:
    assert _worker_blog is not None, "start_worker sets the blog"
    return chunk_rows(_worker_blog, chunk)


def all_rows(blog: Blog) -> Iterator[tuple[list[PostRow], list[PostTagRow]]]:
    """Every chunk, in this process (small seeds and tests)."""
    for chunk in range(blog.chunks):
        yield chunk_rows(blog, chunk)
