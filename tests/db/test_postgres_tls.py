"""A PostgreSQL server on this machine is dialled without asking for TLS; any other as asyncpg
would, and a URL's own ssl setting always wins (fastblog.db.postgres_tls)."""

import pytest

from fastblog.db.postgres_tls import plain_tcp_is_enough


@pytest.mark.parametrize(
    ("url", "plain"),
    [
        ("postgresql+asyncpg://postgres@127.0.0.1:5432/fastblog", True),
        ("postgresql+asyncpg://postgres@127.0.0.2/fastblog", True),
        ("postgresql+asyncpg://postgres@localhost/fastblog", True),
        ("postgresql+asyncpg://postgres@[::1]:5432/fastblog", True),
        ("postgresql+asyncpg://postgres@/fastblog?host=/var/run/postgresql", True),
        ("postgresql+asyncpg://u:p@db.example.org/fastblog", False),
        ("postgresql+asyncpg://u:p@10.0.0.7/fastblog", False),
        ("postgresql+asyncpg://postgres@127.0.0.1/fastblog?ssl=require", False),
        ("postgresql+asyncpg://postgres@localhost/fastblog?sslmode=verify-full", False),
    ],
)
def test_only_this_machines_server_is_dialled_in_plain_tcp(url: str, plain: bool) -> None:
    assert plain_tcp_is_enough(url) is plain
