"""Search with LIKE, for a SQLite built without FTS5: a full scan of the same three texts,
correct and slow (the app says so at start-up). Title matches first, then the newest."""

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, not_, or_, select

from fastblog.accounts.models import User
from fastblog.db import Database, Row
from fastblog.posts.models import Post
from fastblog.posts.queries import FULL_COLUMNS, SUMMARY_COLUMNS, VISIBLE
from fastblog.search import schema
from fastblog.search.engines import (
    MARK_END,
    MARK_START,
    NEWEST,
    SNIPPET_WORDS,
    Engine,
    Filters,
)
from fastblog.search.fts5 import FTS5Engine
from fastblog.search.postgres import PostgresEngine
from fastblog.search.query import SearchQuery, Term

logger = logging.getLogger(__name__)

SEARCHED = (Post.title, Post.body_text, Post.tag_names)


def _like_pattern(term: Term) -> str:
    text = " ".join(term.words)
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _contains(term: Term, columns: tuple[Any, ...] = SEARCHED) -> Any:
    pattern = _like_pattern(term)
    return or_(*(column.ilike(pattern, escape="\\") for column in columns))


def _like_where(query: SearchQuery) -> Any:
    required = [or_(*(_contains(term) for term in group)) for group in query.required]
    return and_(*required, *(not_(_contains(term)) for term in query.excluded))


def _like_snippet(text: str, query: SearchQuery) -> str:
    """The text around the first word found, the words marked (case-insensitively)."""
    words = sorted(
        {w.casefold() for group in query.required for term in group for w in term.words},
        key=len,
        reverse=True,
    )
    folded = text.casefold()
    found = [at for at in (folded.find(word) for word in words) if at >= 0]
    start = max(0, min(found, default=0) - 60)
    window = text[start : start + 8 * SNIPPET_WORDS]
    if len(folded) != len(text):  # case folding changed lengths: no marks, the text only
        return window
    marked, at, lowered = [], 0, window.casefold()
    while at < len(window):
        word = next((w for w in words if lowered.startswith(w, at)), None)
        if word is None:
            marked.append(window[at])
            at += 1
        else:
            marked.append(f"{MARK_START}{window[at : at + len(word)]}{MARK_END}")
            at += len(word)
    prefix = "…" if start else ""
    suffix = "…" if start + len(window) < len(text) else ""
    return prefix + "".join(marked) + suffix


class LikeEngine:
    """A full scan with LIKE: correct and slow, for a SQLite built without FTS5. Its
    statements depend on the query's shape, so they take the session road (SQLAlchemy's
    statement cache), not the compiled one (which compiles each statement object once)."""

    name = "sqlite-like"

    def _select(self, query: SearchQuery, filters: Filters, now: datetime, full: bool) -> Any:
        in_title = or_(*(_contains(t, (Post.title,)) for g in query.required for t in g))
        columns = FULL_COLUMNS if full else SUMMARY_COLUMNS
        return (
            select(*columns, Post.body_text.label("body_text"))
            .join(User, User.id == Post.user_id)
            .where(_like_where(query), VISIBLE, *filters.where())
            .order_by(case((in_title, 0), else_=1), *NEWEST)
            .params(now=now, **filters.values())
        )

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
        statement = self._select(query, filters, now, full).limit(limit).offset(skip)
        async with db.session() as session:
            rows = [dict(row) for row in (await session.execute(statement)).mappings()]
        for row in rows:
            row["snippet"] = _like_snippet(row.pop("body_text"), query)
        return rows

    async def finds_any(
        self, db: Database, query: SearchQuery, *, filters: Filters, now: datetime
    ) -> bool:
        statement = self._select(query, filters, now, full=False).limit(1)
        async with db.session() as session:
            return (await session.execute(statement)).first() is not None


def engine_for(db: Database) -> Engine:
    """PostgreSQL's full text, SQLite's FTS5, or LIKE on a SQLite without FTS5."""
    if db.dialect.name == "postgresql":
        return PostgresEngine()
    return FTS5Engine() if schema.fts5_available() else LikeEngine()


def warn_if_degraded(db: Database) -> None:
    """At start-up: say so if search will scan every post."""
    if isinstance(engine_for(db), LikeEngine):
        logger.warning(
            "This SQLite has no FTS5: search falls back to LIKE, which reads every post "
            "(slow on a large blog). Use a Python whose SQLite has FTS5, or PostgreSQL."
        )
