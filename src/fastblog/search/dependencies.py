from typing import Annotated

from fastapi import Depends
from fastapi.exceptions import RequestValidationError

from fastblog.params import Cursor
from fastblog.search.service import decode_offset


async def get_search_offset(cursor: Cursor = None) -> int:
    """Where a page of results starts (the `next_cursor` of the page before); a cursor we did
    not give out is a 422 on `cursor`, like any other bad query parameter."""
    if not cursor:
        return 0
    try:
        return decode_offset(cursor)
    except ValueError as exc:
        raise RequestValidationError(
            [{"type": "value_error", "loc": ("query", "cursor"), "msg": str(exc), "input": cursor}]
        ) from exc


OffsetDep = Annotated[int, Depends(get_search_offset)]
