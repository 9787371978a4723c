"""What an account's deletion sends to the fediverse: registered with
fastblog.accounts.deletion.

As Mastodon does for a removed account, one `Delete` of the actor goes to each follower's
inbox, and the receiving server removes the account and every post of it: one activity per
inbox rather than one per post. It is queued in the transaction that deletes the account,
before the cascade takes the followers. The delivery and the author's key outlive the
account (no foreign key to users), so the sender signs it once the account is gone; the
actor's address keeps answering with the key alone (`documents.gone_person`), for a server
that fetches it to verify the Delete.
"""

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.deletion import AccountDeletion
from fastblog.db import utcnow
from fastblog.federation import documents
from fastblog.federation.delivery import follower_inboxes, queue_activity


class Leaving:
    def __init__(self, base: str, wake: Callable[[], None]) -> None:
        self.base = base
        self.wake = wake  # the delivery sender's, after the deletion committed

    async def on_delete(self, session: AsyncSession, user_id: int) -> None:
        inboxes = await follower_inboxes(session, user_id)
        if not inboxes:
            return
        activity = documents.delete_actor(self.base, user_id, deleted_at=utcnow())
        await queue_activity(session, activity=activity, author_id=user_id, inboxes=inboxes)


def install(deletion: AccountDeletion, leaving: Leaving) -> None:
    deletion.on_delete(leaving.on_delete, after_commit=leaving.wake)
