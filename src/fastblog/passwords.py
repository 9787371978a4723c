"""Password hashing with argon2, off the event loop.

Hashing or verifying costs ~100 ms of CPU on purpose. On the event loop it would
freeze every other request for that long, so it runs in a worker thread:
argon2-cffi releases the GIL while it hashes, so threads give real parallelism and
avoid the pickling of a process pool. A capacity limiter bounds how many hashes
run at once, so a flood of logins queues instead of taking every thread.
"""

from functools import cached_property

import anyio
from anyio import CapacityLimiter
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from fastblog.config import Settings


def password_hash_of(settings: Settings) -> PasswordHash:
    """argon2id at the cost the settings choose (pwdlib's recommended one by default)."""
    return PasswordHash(
        (
            Argon2Hasher(
                memory_cost=settings.argon2_memory_kib,
                time_cost=settings.argon2_time_cost,
                parallelism=settings.argon2_parallelism,
            ),
        )
    )


class PasswordHasher:
    def __init__(self, settings: Settings) -> None:
        self.limiter = CapacityLimiter(settings.password_hash_concurrency)
        self._hash = password_hash_of(settings)

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(self._hash.hash, password, limiter=self.limiter)

    async def verify(self, password: str, password_hash: str | None) -> bool:
        """Compare in constant work: an unknown account costs the same as a wrong password."""
        return await anyio.to_thread.run_sync(
            self._verify, password, password_hash, limiter=self.limiter
        )

    @cached_property
    def _dummy_hash(self) -> str:
        return self._hash.hash("fastblog-dummy-password")

    def _verify(self, password: str, password_hash: str | None) -> bool:
        # In the worker thread, with the dummy hash: made on first use, itself a slow hash.
        matches = self._hash.verify(password, password_hash or self._dummy_hash)
        return matches and password_hash is not None
