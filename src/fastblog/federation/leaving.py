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

from sqlalchemy import exists, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.deletion import AccountDeletion
from fastblog.db import utcnow
from fastblog.federation import documents
from fastblog.federation.delivery import follower_inboxes, queue_activity
from fastblog.federation.models import Tombstone
from fastblog.posts.models import Post
from fastblog.posts.queries import NOW, VISIBLE


class Leaving:
    def __init__(self, base: str, wake: Callable[[], None]) -> None:
        self.base = base
        self.wake = wake  # the delivery sender's, after the deletion committed

    async def on_delete(self, session: AsyncSession, user_id: int) -> None:
        await leave_tombstones(session, user_id)
        inboxes = await follower_inboxes(session, user_id)
        if not inboxes:
            return
        activity = documents.delete_actor(self.base, user_id, deleted_at=utcnow())
        await queue_activity(session, activity=activity, author_id=user_id, inboxes=inboxes)


async def leave_tombstones(session: AsyncSession, user_id: int) -> None:
    """Each post of the account that readers could see answers 410 Gone from now on, as a post
    deleted alone does: a server that fetches its address (to check a boost, say) learns it
    is gone rather than that it never was. One statement, before the cascade takes the posts;
    drafts and scheduled posts were never seen, and stay a 404."""
    already = exists().where(Tombstone.post_id == Post.id)
    seen = (
        select(Post.id, Post.user_id, NOW)
        .where(Post.user_id == user_id, VISIBLE, ~already)
        .params(now=utcnow())
    )
    columns = ["post_id", "author_id", "deleted_at"]
    await session.execute(insert(Tombstone).from_select(columns, seen))


def install(deletion: AccountDeletion, leaving: Leaving) -> None:
    deletion.on_delete(leaving.on_delete, after_commit=leaving.wake)
