"""Where a page of posts starts, and the links to the pages around it (the HTML lists).

A page starts at the top, at `?page=N` (an offset, bounded by MAX_SKIP: past it a 404), after
`?cursor=` (the key of the last post of the page before: any depth at the cost of page one)
or just before `?before=` (for "Newer posts"). The links carry cursors; they also carry the
page's number, so a reader still sees "Page 3 of 40": with a cursor the number is only a
label (the cursor says where the page starts), and a label that is off shows a wrong number,
never other posts.
"""

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, HTTPException, Query, Request, status
from fastapi.exceptions import RequestValidationError

from fastblog.dependencies import KeysetDep, resources_of
from fastblog.pagination import Keyset
from fastblog.params import CURSOR_MAX_CHARS, MAX_SKIP, PageNumber
from fastblog.posts.queries import PostList

Before = Annotated[
    str | None,
    Query(
        max_length=CURSOR_MAX_CHARS,
        description="The page just before this key (newer posts): a link's, opaque.",
    ),
]


def past_the_end(number: int, last: int, per_page: int) -> HTTPException:
    """A 404 for a page number past the list's last page (or past the offset bound): it names
    the last page a number reaches, which is the list's own last page when it is short."""
    deepest = MAX_SKIP // per_page + 1
    if last <= deepest:
        detail = f"There is no page {number}: the last page is {last}."
    else:
        detail = (
            f"Page numbers go up to {deepest}; older posts are reached "
            "through the “Older posts” links."
        )
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=detail)


def _bad(parameter: str, message: str, value: str) -> RequestValidationError:
    return RequestValidationError(
        [{"type": "value_error", "loc": ("query", parameter), "msg": message, "input": value}]
    )


@dataclass(frozen=True, slots=True)
class Position:
    """Where the page starts (one of: an offset, `after` a key, `before` a key)."""

    number: int | None  # the page's number, when known
    per_page: int
    skip: int = 0
    after: Keyset | None = None
    before: Keyset | None = None
    # A ?page= past MAX_SKIP: the top is read instead (cheap, and it gives the list's total,
    # which the 404 names), and page_links refuses it.
    too_deep: bool = False


def _position(
    per_page: int, page: int | None, cursor: Keyset | None, before: str | None
) -> Position:
    newer = None
    if before:
        try:
            newer = Keyset.decode(before)
        except ValueError as exc:
            raise _bad("before", str(exc), before) from exc
        if cursor is not None:
            raise _bad("before", "Give cursor or before, not both.", before)
    if cursor is not None or newer is not None:
        return Position(page, per_page, after=cursor, before=newer)
    number = page or 1
    skip = (number - 1) * per_page
    if skip > MAX_SKIP:
        return Position(number, per_page, too_deep=True)
    return Position(number, per_page, skip=skip)


def _per_page(request: Request) -> int:
    # The site's settings from the request, not a SiteDep to solve on every list page
    # (fastblog.dependencies.resources_of says why).
    return resources_of(request).site.current.posts_per_page


async def get_position(
    request: Request, cursor: KeysetDep, page: PageNumber = None, before: Before = None
) -> Position:
    """A list page's start from ?page=, ?cursor= or ?before= (422 for a bad cursor)."""
    return _position(_per_page(request), page, cursor, before)


async def get_older_position(
    request: Request, cursor: KeysetDep, page: PageNumber = None
) -> Position:
    """The same for lists that only go on to older pages (the author's drafts)."""
    return _position(_per_page(request), page, cursor, None)


PositionDep = Annotated[Position, Depends(get_position)]
OlderPositionDep = Annotated[Position, Depends(get_older_position)]


@dataclass(frozen=True, slots=True)
class PageLinks:
    """What the pagination partial shows: hrefs of the pages around, the page's number."""

    number: int | None
    per_page: int
    total: int
    newer: str | None
    older: str | None
    # A link's page (by cursor) with nothing on it: the posts it led to were deleted or
    # unpublished after the link was made (its cursor is past them all).
    stale: bool = False

    @property
    def last(self) -> int:
        return max(1, -(-self.total // self.per_page))


def page_links(
    listing: PostList, at: Position, path: str, query: dict[str, Any] | None = None
) -> PageLinks:
    """The links of the list at `path`; `query`: what every link keeps (a ?tag= filter).
    A ?page= past the list's last page is a 404 (page 1 of an empty list is not)."""
    query = query or {}
    number = at.number
    last = max(1, -(-listing.total // at.per_page))
    by_number = at.after is None and at.before is None
    if number is not None and by_number and (at.too_deep or number > last):
        raise past_the_end(number, last, at.per_page)

    def _href(query: dict[str, Any]) -> str:
        return f"{path}?{urlencode(query)}" if query else path

    def labelled(**position: Any) -> dict[str, Any]:
        return {**query, **{name: value for name, value in position.items() if value}}

    if not listing.posts and not by_number:
        # No "Page 5 of 3" and no way further: the way on is the list's first page.
        return PageLinks(None, at.per_page, listing.total, _href(query), None, stale=True)
    older = None
    if listing.older is not None:
        older = _href(labelled(cursor=listing.older.encode(), page=number + 1 if number else None))
    newer = None
    if not listing.at_top:
        if listing.newer is not None and number != 2:
            newer = _href(
                labelled(before=listing.newer.encode(), page=number - 1 if number else None)
            )
        else:  # page 2's newer page is the first; so is any page that cannot tell
            newer = _href(query)
    return PageLinks(number, at.per_page, listing.total, newer, older)
