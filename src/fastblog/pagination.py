"""Where a page starts: page numbers for the HTML pages' links, and opaque cursors (keyset
pagination) for every list that must stay cheap however deep a reader goes.

A cursor is the sort key of the last row a page showed, so the next page is an index range
("rows after this key") that costs the same on page one and on page 50,000, where an OFFSET
walks every row it passes over. It is opaque to clients (base64url of a small JSON array,
`v1` first so the format can change) and validated, not signed: any well-formed cursor is
just a position in an index, so a forged one can only show rows the reader may already see.
"""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastblog.params import CURSOR_MAX_CHARS

CURSOR_VERSION = "v1"
MAX_CURSOR_ID = 2**63 - 1
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
BAD_CURSOR = "This cursor is not one this list gave out; start again without it"
# One encoder for every cursor: json.dumps with options builds a new one a call, and a list
# of posts writes a cursor on every request.
_CURSOR_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True)


@dataclass(frozen=True, slots=True)
class PageLinks:
    number: int
    per_page: int
    total: int

    @property
    def last(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def newer(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def older(self) -> int | None:
        return self.number + 1 if self.number < self.last else None


def encode_cursor(*parts: str | int | float) -> str:
    """An opaque cursor holding `parts` (JSON scalars), for decode_cursor."""
    payload = _CURSOR_JSON.encode([CURSOR_VERSION, *parts])
    return base64.urlsafe_b64encode(payload.encode()).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> list[Any]:
    """The parts encode_cursor was given; ValueError (with a message for the client) for
    anything else."""
    if len(cursor) > CURSOR_MAX_CHARS:
        raise ValueError(BAD_CURSOR)
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        parts = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise ValueError(BAD_CURSOR) from exc
    if not isinstance(parts, list) or not parts or parts[0] != CURSOR_VERSION:
        raise ValueError(BAD_CURSOR)
    return parts[1:]


def _valid_id(value: Any) -> int:
    if type(value) is not int or not 1 <= value <= MAX_CURSOR_ID:
        raise ValueError(BAD_CURSOR)
    return value


@dataclass(frozen=True, slots=True)
class Keyset:
    """The (timestamp, id) sort key of the last row shown: lists ordered by a time and the
    id as a tie-breaker (newest posts first, oldest comments first) continue strictly after
    it, in their own direction."""

    at: datetime
    id: int

    def encode(self) -> str:
        # Whole microseconds since the epoch: exact (no float), and short.
        return encode_cursor((self.at - EPOCH) // MICROSECOND, self.id)

    @classmethod
    def decode(cls, cursor: str) -> "Keyset":
        """The keyset in `cursor`; ValueError for a cursor this codec did not make."""
        parts = decode_cursor(cursor)
        if len(parts) != 2:
            raise ValueError(BAD_CURSOR)
        micros, row_id = parts
        if type(micros) is not int:
            raise ValueError(BAD_CURSOR)
        try:
            at = EPOCH + micros * MICROSECOND
        except OverflowError as exc:
            raise ValueError(BAD_CURSOR) from exc
        return cls(at=at, id=_valid_id(row_id))

    @classmethod
    def after(cls, row: dict[str, Any], *, at: str = "published_at") -> "Keyset":
        """The keyset of a row (a dict with `at` and `id`)."""
        return cls(at=row[at], id=row["id"])


def encode_id_cursor(row_id: int) -> str:
    """A cursor for a list ordered by id alone (a user's notifications, newest first)."""
    return encode_cursor(row_id)


def decode_id_cursor(cursor: str) -> int:
    """The id in a cursor encode_id_cursor made; ValueError for anything else."""
    parts = decode_cursor(cursor)
    if len(parts) != 1:
        raise ValueError(BAD_CURSOR)
    return _valid_id(parts[0])
