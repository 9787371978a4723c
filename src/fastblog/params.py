"""Path and query parameters shared by several routers, bounded so absurd values get a 422,
and the error responses routes document so the OpenAPI schema lists every status they return."""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Query, status
from pydantic import AfterValidator, BaseModel, BeforeValidator

MAX_ID = 2**63 - 1  # the largest BIGINT; anything above can name no row
# How deep an offset goes (`skip`, and `?page=` on the pages). An OFFSET costs the database a
# walk over every row it passes: at 1,000,000 posts the last page by offset took ~0.8 s where
# page one takes ~0.5 ms. Cursors (`?cursor=`, `next_cursor`) reach any depth at the cost of
# page one, so offsets stop here, where the walk is still cheap (~1,000 index steps): the API
# answers 422 pointing to the cursor, the pages 404 (their "Older posts" links carry cursors).
MAX_SKIP = 1_000
MAX_PAGE_NUMBER = 10_000_000  # a number past this is not a page number at all: 422
MAX_LIMIT = 100
CURSOR_MAX_CHARS = 200  # far above any cursor fastblog.pagination gives out
NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL; a NUL in any text field is bad input

# Names and titles: the limits and the pattern apply to the text as sent (so the schema says
# exactly what is accepted), then the text is trimmed of these. The patterns require something
# besides blanks: a title of spaces is refused, "  a title " is stored as "a title".
BLANK = " \t\n\r\x0b\x0c"
NOT_BLANK = r"^[^\x00]*[^\x00 \t\n\r\x0b\x0c][^\x00]*$"  # some text besides blanks, no NUL


def _trim(value: str) -> str:
    return value.strip(BLANK)


# After the Field: Annotated[str, Field(...), Trimmed].
Trimmed = AfterValidator(_trim)


def _line_feeds(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n")
    return value


# Long text is stored with "\n" line ends, whatever the client sent (a browser's textarea
# sends "\r\n"): before the length check, so a textarea's maxlength (which counts a line end
# once) and the server agree.
LineFeeds = BeforeValidator(_line_feeds)

# Bidirectional embeddings, overrides and isolates (LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI,
# PDI): invisible, and an unclosed one reverses the text after it on every page that shows
# the title ("Trojan Source"). Right-to-left titles need none of them to display right.
BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


def _without_bidi_controls(value: str) -> str:
    return value.translate(BIDI_CONTROLS)


NoBidiControls = AfterValidator(_without_bidi_controls)

SKIP_TOO_DEEP = (
    f"skip goes up to {MAX_SKIP}: to read further, pass the next_cursor of the page before "
    "as ?cursor= (each response carries one)"
)


def _within_offset_bound(skip: int) -> int:
    if skip > MAX_SKIP:
        raise ValueError(SKIP_TOO_DEEP)
    return skip


# Bounded by a validator rather than `le`, so the 422 says where to go instead.
Skip = Annotated[
    int,
    Query(
        ge=0,
        description=f"How many posts to pass over (up to {MAX_SKIP}; further: `cursor`).",
        json_schema_extra={"maximum": MAX_SKIP},
    ),
    AfterValidator(_within_offset_bound),
]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="How many posts to return.")]
Cursor = Annotated[
    str | None,
    Query(
        max_length=CURSOR_MAX_CHARS,
        description="Where the page starts: the `next_cursor` of the page before (opaque).",
    ),
]
PageNumber = Annotated[
    int | None, Query(ge=1, le=MAX_PAGE_NUMBER, description="Page number, from 1.")
]


def never_null(schema: dict[str, Any]) -> None:
    """For PATCH bodies (json_schema_extra): a field may be left out but is never null, so the
    schema offers only the value itself. The model's validator refuses an explicit null."""
    _drop_null(schema, keep=frozenset())


def never_null_but(*nullable: str) -> Callable[[dict[str, Any]], None]:
    """never_null for every field but `nullable`, whose null means something (take the
    feature image away, use the site's default): their schema keeps offering null."""
    keep = frozenset(nullable)
    return lambda schema: _drop_null(schema, keep=keep)


def _drop_null(schema: dict[str, Any], *, keep: frozenset[str]) -> None:
    for name, field in schema.get("properties", {}).items():
        if name in keep:
            continue
        choices = field.pop("anyOf", None)
        if choices is not None:
            field.update(next(choice for choice in choices if choice.get("type") != "null"))
        field.pop("default", None)


class ErrorMessage(BaseModel):
    """The body of every error but a validation error (422)."""

    detail: str


Responses = dict[int | str, dict[str, Any]]  # a route's documented error responses

RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "string"}}
}


def error(description: str, **extra: Any) -> dict[str, Any]:
    return {"description": description, "model": ErrorMessage, **extra}


# Every route that reads or writes the database may answer this when the database is down.
UNAVAILABLE: Responses = {
    status.HTTP_503_SERVICE_UNAVAILABLE: error(
        "The database is unavailable; retry after a moment", headers=RETRY_AFTER
    )
}


def invalid(description: str) -> Responses:
    """A 422 that is either FastAPI's validation error (a field's type or format) or a domain
    error's plain message (a value the service refused: {"detail": "..."})."""
    schemas = ("HTTPValidationError", "ErrorMessage")
    return {
        status.HTTP_422_UNPROCESSABLE_CONTENT: {
            "description": description,
            "content": {
                "application/json": {
                    "schema": {"anyOf": [{"$ref": f"#/components/schemas/{s}"} for s in schemas]}
                }
            },
        }
    }


# Every route with a request body: refused before it is read when over the limit.
TOO_LARGE: Responses = {
    status.HTTP_413_CONTENT_TOO_LARGE: error("The request body is over the size limit")
}
