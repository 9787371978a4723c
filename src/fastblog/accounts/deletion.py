"""What else must happen when an account is deleted, in the transaction that deletes it.

The database's ON DELETE CASCADE takes the account's posts, follows and followers with the
account's row; a package that must act on them first (federation: the `Delete` the
author's followers on other servers are owed) registers a handler at start-up
(fastblog.main). The handlers run before the row is deleted, in the same transaction: the
account goes and what it owes is queued together, or neither. Accounts import nothing above
them.
"""

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

Handler = Callable[[AsyncSession, int], Awaitable[None]]


class AccountDeletion:
    """The handlers each account deletion runs; one per app, made by the lifespan."""

    def __init__(self) -> None:
        self._handlers: list[Handler] = []
        self._after_commit: list[Callable[[], None]] = []

    def on_delete(
        self, handler: Handler, *, after_commit: Callable[[], None] | None = None
    ) -> None:
        """Call `handler(session, user_id)` before each account's row is deleted;
        `after_commit` once the deletion committed (to wake what sends)."""
        self._handlers.append(handler)
        if after_commit is not None:
            self._after_commit.append(after_commit)

    async def deleting(self, session: AsyncSession, user_id: int) -> None:
        for handler in self._handlers:
            await handler(session, user_id)

    def committed(self) -> None:
        for wake in self._after_commit:
            wake()
