"""What the full-text engines share (each lives in its module: fastblog.search.fts5 for SQLite,
fastblog.search.postgres for PostgreSQL, fastblog.search.like without FTS5): one interface, a
page of ranked posts for a parsed query, each with its snippet still holding the markers.

How both engines rank, the same way on both databases (docs/search.md says why):

1. the window: a query is ranked among its RANKED_MATCHES newest visible matches (all of
   them when fewer match), found by walking the matches newest first, which needs no score;
2. the tier: a match in the title counts 2, in the tags 1, in the text alone 0;
3. then the newest first, within a tier.

No engine's own score (bm25, ts_rank) is used: bm25 reads the whole list of every word's
matches for its statistics, and ts_rank reads every candidate's whole vector, so a common
word cost every request a pass over 100,000 posts at a million (docs/performance.md).
"""

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import literal_column, select

from fastblog.db import Database, Row
from fastblog.posts.models import Post, PostTag
from fastblog.posts.queries import BY_USER, TAG_ID
from fastblog.search.query import SearchQuery

# Around each matched word in a snippet, until fastblog.search.service.marked makes them <mark>:
# private-use characters (a query cannot hold them) around a secret of this process, so no
# text a writer can type turns into markup.
MARK_START = f"\ue000{secrets.token_hex(8)}\ue001"
MARK_END = f"\ue001{secrets.token_hex(8)}\ue000"
SNIPPET_WORDS = 32

# The window: the cost of a search is bounded by it, not by the blog's size. It is also the
# deepest result a cursor reaches (fastblog.search.service.MAX_RESULTS), so every page of a
# common word comes from the same ranking.
RANKED_MATCHES = 1_000
# The tiers: where the query matched (the text is the rest).
TITLE_TIER, TAGS_TIER = 2, 1

# The tag filter of a search: a probe of post_tags' primary key for each match. (The lists'
# `post_id IN (the tag's posts)` made SQLite build the whole list first: a third of a million
# posts for a popular tag at a million posts, ~0.3 s, twice per search.) OFFSET 0 keeps
# PostgreSQL from turning the probe into a join driven by the tag's posts: it estimates a
# tag by the average (8,000 posts), and read all 340,000 of `python`'s, 20 s per search.
TAGGED = (
    select(literal_column("1"))
    .where(PostTag.post_id == Post.id, PostTag.tag_id == TAG_ID)
    .offset(literal_column("0"))
    .exists()
)


@dataclass(frozen=True, slots=True)
class Filters:
    user_id: int | None = None
    tag: str | None = None

    @property
    def key(self) -> tuple[bool, bool]:
        return (self.user_id is not None, self.tag is not None)

    def where(self) -> tuple[Any, ...]:
        by_user, by_tag = self.key
        return (*((BY_USER,) if by_user else ()), *((TAGGED,) if by_tag else ()))

    def values(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "tag": self.tag}


class Engine(Protocol):
    name: str

    async def page(
        self,
        db: Database,
        query: SearchQuery,
        *,
        filters: Filters,
        now: datetime,
        skip: int,
        limit: int,
        full: bool,
    ) -> list[Row]:
        """Rows of the page's posts (SUMMARY or FULL columns, `snippet`), best first."""
        ...

    async def finds_any(
        self, db: Database, query: SearchQuery, *, filters: Filters, now: datetime
    ) -> bool: ...


NEWEST = (Post.published_at.desc(), Post.id.desc())
# Each engine's statements, compiled once: user filter x tag filter x API or page columns.
VARIANTS = [(u, t, f) for u in (False, True) for t in (False, True) for f in (False, True)]


def filters_where(by_user: bool, by_tag: bool) -> tuple[Any, ...]:
    return Filters(1 if by_user else None, "" if by_tag else None).where()
