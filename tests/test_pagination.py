"""The cursor codec every keyset-paginated list shares."""

from datetime import UTC, datetime

import pytest

from fastblog.pagination import Keyset, decode_cursor, encode_cursor


@pytest.mark.parametrize(
    "at",
    [
        datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ],
)
def test_a_keyset_comes_back_exactly(at: datetime) -> None:
    keyset = Keyset(at=at, id=2**63 - 1)
    assert Keyset.decode(keyset.encode()) == keyset


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not base64 !",
        "x" * 201,
        encode_cursor(1),  # one part short
        encode_cursor(1, 2, 3),
        encode_cursor(1.5, 2),  # not whole microseconds
        encode_cursor(10**30, 1),  # past the year 9999
        encode_cursor(1, 0),  # ids start at 1
        encode_cursor(1, 2**63),
        encode_cursor(True, 1),
        encode_cursor(1, "2"),
        "WyJ2MiIsMSwyXQ",  # ["v2",1,2]: another format
        "bnVsbA",  # null
    ],
)
def test_anything_else_is_refused_with_a_message(cursor: str) -> None:
    with pytest.raises(ValueError, match="not one this list gave out"):
        Keyset.decode(cursor)


def test_cursors_are_url_safe_and_short() -> None:
    cursor = Keyset(at=datetime(2026, 12, 1, tzinfo=UTC), id=10**12).encode()
    assert cursor.isascii()
    assert not set(cursor) & set("=+/")
    assert len(cursor) < 60
    assert decode_cursor(encode_cursor("a", 1, 2.5)) == ["a", 1, 2.5]
