"""Password hashing with argon2, off the event loop.

Hashing or verifying costs ~100 ms of CPU on purpose. On the event loop it would
freeze every other request for that long, so it runs in a worker thread:
argon2-cffi releases the GIL while it hashes, so threads give real parallelism and
avoid the pickling of a process pool. A capacity limiter bounds how many hashes
run at once, so a flood of logins queues instead of taking every thread.
"""

from functools import lru_cache

import anyio
from anyio import CapacityLimiter
from pwdlib import PasswordHash


@lru_cache
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


@lru_cache
def _dummy_hash() -> str:
    return _hasher().hash("fastblog-dummy-password")


class PasswordHasher:
    def __init__(self, concurrency: int) -> None:
        self.limiter = CapacityLimiter(concurrency)

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(_hasher().hash, password, limiter=self.limiter)

    async def verify(self, password: str, password_hash: str | None) -> bool:
        """Compare in constant work: an unknown account costs the same as a wrong password."""
        return await anyio.to_thread.run_sync(
            _verify, password, password_hash, limiter=self.limiter
        )


def _verify(password: str, password_hash: str | None) -> bool:
    # In the worker thread, with the dummy hash: it is made on first use, itself a slow hash.
    matches = _hasher().verify(password, password_hash or _dummy_hash())
    return matches and password_hash is not None
