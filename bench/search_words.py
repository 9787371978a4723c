"""Words to search for in whatever `fastblog seed` wrote, picked at run time from the data.

A sample of posts gives candidate words with their share of posts; the search index itself
then counts the exact number of posts for each candidate (an index lookup, not a scan), so
the choice holds for any seeded vocabulary and any number of posts:

- a rare word: in as few posts as any candidate (at least one);
- a common word: in the share of posts closest to COMMON_SHARE (about 10%);
- the most frequent word: in the most posts of the sample (and found by the index: not a
  stop word PostgreSQL's configuration drops);
- a phrase: the most frequent pair of adjacent words in the sample, quoted, of words in
  under PHRASE_WORD_SHARE of the posts;
- a tag: the most used one, searched with the common word.
"""

import asyncio
import random
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select, text

from fastblog.config import Settings
from fastblog.db.engine import create_engine
from fastblog.posts.models import Post, PostTag, Tag
from fastblog.search.query import parse, to_fts5, to_tsquery

SAMPLE_POSTS = 2_000
# The posts `make bench` writes itself (app_bench.WRITE_BODY) are not the blog's prose: on a
# database benchmarked before, their words ("bench", "write path") would be picked.
BENCH_TITLE = "Benchmark post number"
COMMON_SHARE = 0.10
PHRASE_WORD_SHARE = 0.05
CANDIDATES = 12
WORD = re.compile(r"[^\W\d_]{4,}")  # letters only, long enough to skip most stop words


@dataclass(frozen=True)
class SearchWords:
    rare: str
    common: str
    frequent: str
    phrase: str
    tag: str | None
    counts: dict[str, int]  # posts the index finds for each

    def paths(self) -> dict[str, str]:
        """The benchmark's routes and their paths."""
        paths = {
            "GET /api/search?q={rare word}": {"q": self.rare},
            "GET /api/search?q={common word}": {"q": self.common},
            'GET /api/search?q="{two-word phrase}"': {"q": f'"{self.phrase}"'},
        }
        if self.tag:
            paths["GET /api/search?q={common word}&tag={tag}"] = {"q": self.common, "tag": self.tag}
        paths["GET /api/search?q={most frequent word}"] = {"q": self.frequent}
        return {route: "/api/search?" + urlencode(params) for route, params in paths.items()}


async def _sample(connection: Any) -> list[str]:
    low, high = (await connection.execute(select(func.min(Post.id), func.max(Post.id)))).one()
    if low is None:
        return []
    rng = random.Random(11)
    ids = sorted({rng.randint(low, high) for _ in range(SAMPLE_POSTS)})
    rows = await connection.execute(
        select(Post.title, Post.body_text)
        .where(Post.id.in_(ids), Post.title.not_like(f"{BENCH_TITLE}%"))
        .limit(SAMPLE_POSTS)
    )
    return [f"{title}\n{body}".lower() for title, body in rows]


async def _count(connection: Any, q: str) -> int:
    query = parse(q)
    if query.is_empty:
        return 0
    if connection.dialect.name == "sqlite":
        sql = "SELECT count(*) FROM posts_search WHERE posts_search MATCH :match"
        match = to_fts5(query)
    else:
        sql = "SELECT count(*) FROM posts WHERE search_vector @@ to_tsquery('english', :match)"
        match = to_tsquery(query)
    return int((await connection.execute(text(sql), {"match": match})).scalar() or 0)


async def _first_found(connection: Any, queries: list[str]) -> str:
    for q in queries:
        if await _count(connection, q) > 0:
            return q
    raise SystemExit(f"None of {queries} finds a post: is the search index built?")


async def _top_tag(connection: Any) -> str | None:
    return (
        await connection.execute(
            select(Tag.name)
            .join(PostTag, PostTag.tag_id == Tag.id)
            .group_by(Tag.name)
            .order_by(func.count().desc())
            .limit(1)
        )
    ).scalar()


async def _pick(url: str) -> SearchWords:
    engine = create_engine(Settings(database_url=url))
    try:
        async with engine.connect() as connection:
            texts = await _sample(connection)
            if not texts:
                raise SystemExit("No posts to search: seed some first.")
            share = Counter(word for body in texts for word in set(WORD.findall(body)))
            # Phrases of words in fewer than PHRASE_WORD_SHARE of the posts: the commonest
            # pairs are glue words ("that that"), stop words PostgreSQL's configuration drops
            # (no post matches), and a phrase of two words in most posts is not what
            # readers quote.
            glue = {w for w, n in share.items() if n > PHRASE_WORD_SHARE * len(texts)}
            pairs = Counter(
                pair
                for body in texts
                for line in body.splitlines()
                for pair in zip(WORD.findall(line), WORD.findall(line)[1:], strict=False)
                if not glue & set(pair)
            )
            by_rarity = sorted(share, key=lambda word: (share[word], word))
            counts = {w: await _count(connection, w) for w in by_rarity[:CANDIDATES]}
            rare = min((w for w in counts if counts[w] > 0), key=lambda w: (counts[w], w))
            target = COMMON_SHARE * len(texts)
            by_share = sorted(share, key=lambda word: (abs(share[word] - target), word))
            common = await _first_found(connection, by_share[:CANDIDATES])
            by_count = sorted(share, key=lambda word: (-share[word], word))
            # The commonest words of English are stop words PostgreSQL drops: look further.
            frequent = await _first_found(connection, by_count[: 8 * CANDIDATES])
            phrase = (
                await _first_found(
                    connection,
                    [f'"{" ".join(pair)}"' for pair, _ in pairs.most_common(CANDIDATES)],
                )
            ).strip('"')
            tag = await _top_tag(connection)
            counts = {
                rare: counts[rare],
                common: await _count(connection, common),
                frequent: await _count(connection, frequent),
                f'"{phrase}"': await _count(connection, f'"{phrase}"'),
            }
    finally:
        await engine.dispose()
    return SearchWords(
        rare=rare, common=common, frequent=frequent, phrase=phrase, tag=tag, counts=counts
    )


def search_words(url: str) -> SearchWords:
    return asyncio.run(_pick(url))
