"""Path and query parameters shared by several routers, bounded so absurd values get a 422."""

from typing import Annotated, Any

from fastapi import Query

MAX_ID = 2**63 - 1  # the largest BIGINT; anything above can name no row
MAX_SKIP = 10_000_000
MAX_LIMIT = 100

Skip = Annotated[int, Query(ge=0, le=MAX_SKIP, description="How many posts to pass over.")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="How many posts to return.")]
PageNumber = Annotated[int, Query(ge=1, le=MAX_SKIP, description="Page number, from 1.")]


Responses = dict[int | str, dict[str, Any]]  # a route's documented error responses


def responses(**described: str) -> Responses:
    """OpenAPI error responses, e.g. responses(not_found="Post not found")."""
    codes = {"bad_request": 400, "not_found": 404, "unavailable": 503}
    return {codes[name]: {"description": text} for name, text in described.items()}
