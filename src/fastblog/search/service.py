"""Search: the query parsed, the engine asked for one page, snippets made safe to show, and
a looser query suggested when nothing was found.

Pages go by offset, carried in an opaque cursor, and stop at MAX_RESULTS. Why not a keyset
on (score, id) as the other lists: a search ranks every match on every request whatever the
page (the score is not stored in any index), so a keyset would save no work; and bm25 and
ts_rank scores are floats that move whenever a post is written (the statistics they use
change), so a keyset on them is no steadier than an offset. The bound keeps the sort small
(a top-N of at most MAX_RESULTS rows) and is what web search does too.
"""

import html
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastblog.db import Database
from fastblog.pagination import BAD_CURSOR, decode_cursor, encode_cursor
from fastblog.posts.queries import post_of
from fastblog.search.engines import MARK_END, MARK_START, Engine, Filters
from fastblog.search.like import engine_for
from fastblog.search.query import SearchQuery, parse, relaxations

MAX_RESULTS = 1_000
_CURSOR_KIND = "search"


def encode_offset(offset: int) -> str:
    return encode_cursor(_CURSOR_KIND, offset)


def decode_offset(cursor: str) -> int:
    """Where the page starts; ValueError (with a message for the client) for a cursor this
    list did not give out."""
    parts = decode_cursor(cursor)
    if len(parts) != 2 or parts[0] != _CURSOR_KIND:
        raise ValueError(BAD_CURSOR)
    offset = parts[1]
    if type(offset) is not int or not 0 < offset < MAX_RESULTS:
        raise ValueError(BAD_CURSOR)
    return offset


def marked(snippet: str | None) -> str:
    """The snippet as HTML: everything escaped, then the engine's markers made <mark>."""
    escaped = html.escape(snippet or "")
    return escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")


@dataclass
class SearchResults:
    query: SearchQuery
    posts: list[dict[str, Any]] = field(default_factory=list)
    next_cursor: str | None = None
    # When nothing was found: a looser query that finds something.
    suggestion: SearchQuery | None = None


async def _suggestion(
    engine: Engine, db: Database, query: SearchQuery, filters: Filters, now: datetime
) -> SearchQuery | None:
    for candidate in relaxations(query):
        if await engine.finds_any(db, candidate, filters=filters, now=now):
            return candidate
    return None


async def search(
    db: Database,
    *,
    text: str,
    now: datetime,
    offset: int = 0,
    limit: int = 10,
    user_id: int | None = None,
    tag: str | None = None,
    full: bool = True,
) -> SearchResults:
    """One page of the published posts that match `text`, best first (anyone may see them:
    drafts and scheduled posts never match)."""
    query = parse(text)
    results = SearchResults(query)
    if query.is_empty or offset >= MAX_RESULTS:
        return results
    engine = engine_for(db)
    filters = Filters(user_id=user_id, tag=tag)
    limit = min(limit, MAX_RESULTS - offset)
    # One row more than the page: whether there is a next page, without counting.
    rows = await engine.page(
        db, query, filters=filters, now=now, skip=offset, limit=limit + 1, full=full
    )
    more = len(rows) > limit and offset + limit < MAX_RESULTS
    for row in rows[:limit]:
        post = post_of(row)
        post["snippet"] = marked(row["snippet"])
        results.posts.append(post)
    results.next_cursor = encode_offset(offset + limit) if more else None
    if not rows and offset == 0:
        results.suggestion = await _suggestion(engine, db, query, filters, now)
    return results
