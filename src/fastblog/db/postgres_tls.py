"""Whether to ask a PostgreSQL server for TLS: not when it runs on this machine.

asyncpg's default (`sslmode=prefer`) asks every new connection, and the side connection that
cancels a running query, to upgrade to TLS first. To a server on loopback or a Unix socket
that is one more round trip for nothing; worse, a query cancelled while its task is cancelled
(a background loop stopping, a request cut short) can then leak a bare
`ConnectionError("unexpected connection_lost() call")` from the cancel's TLS handshake
(https://github.com/MagicStack/asyncpg/issues/1310, open). A URL that says `ssl=` or
`sslmode=` is obeyed as written.
"""

import ipaddress

from sqlalchemy.engine import make_url


def plain_tcp_is_enough(database_url: str) -> bool:
    """True for a PostgreSQL URL of this machine's server with no TLS setting of its own."""
    url = make_url(database_url)
    if "ssl" in url.query or "sslmode" in url.query:
        return False
    host = url.host or ""
    if not host or host.startswith("/") or host == "localhost":
        return True  # a Unix socket, or this machine by name
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: perhaps another machine
