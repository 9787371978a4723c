from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, Field, Tag

from fastblog.params import MAX_ID
from fastblog.posts.schemas import (
    PostPublic,
    PostSummary,
    documented_as_any_of,
    with_content_or_summary,
)
from fastblog.search.query import MAX_QUERY_CHARS

QueryText = Annotated[
    str,
    Query(
        max_length=MAX_QUERY_CHARS,
        description='As on web search: words (all must match), "a quoted phrase", -excluded, '
        "`or` between two terms; anything else is a plain word.",
        examples=['async "event loop" -django'],
    ),
]
AuthorFilter = Annotated[
    int | None, Query(ge=1, le=MAX_ID, description="Only posts by this user (their id).")
]


# Like the lists: each post's Markdown source and HTML only when asked (a page of results
# with them was ~25 KB of JSON, most of it content no result list shows).
WithContent = Annotated[
    bool,
    Query(description="Also give each post's `content` (Markdown) and `content_html`."),
]
Snippet = Annotated[
    str,
    Field(
        description="Plain text from the post with the matched words in <mark>…</mark>; "
        "everything else is HTML-escaped, so it can be shown as HTML as it is."
    ),
]


class SearchHit(PostSummary):
    """A post as a list shows it, with its snippet."""

    snippet: Snippet


class SearchHitWithContent(PostPublic):
    """A search hit with its content: `?content=true`."""

    snippet: Snippet


# With content when the search was asked for it (`?content=true`), else without (validated
# once: a plain union took 0.7 ms against 0.4 ms for a page of ten).
Hits = Annotated[
    Annotated[list[SearchHitWithContent], Tag("with content")]
    | Annotated[list[SearchHit], Tag("summary")],
    with_content_or_summary(SearchHitWithContent),
]


class SearchPage(BaseModel):
    posts: Hits = Field(description="Best match first.", json_schema_extra=documented_as_any_of)
    next_cursor: str | None = Field(description="The next page's `cursor`; null on the last.")
    suggestion: str | None = Field(
        description="When nothing matched: a looser query that finds something, if any."
    )
