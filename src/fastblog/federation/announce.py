"""What a post's life sends to the fediverse: registered with fastblog.posts.visibility.

Each handler runs inside the transaction that announces, edits, withdraws or deletes the
post, and writes the deliveries there: the post's change and its deliveries commit together
or not at all, and the announcement itself happens once per post on one host. A handler
answers whether it queued a delivery: the delivery sender is woken after the commit only
then (an author nobody follows from afar costs it no pass).
"""

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.db import utcnow
from fastblog.federation import documents
from fastblog.federation.delivery import follower_inboxes, followers_inboxes, queue_activity
from fastblog.federation.models import Reaction, Tombstone
from fastblog.posts.models import PUBLISHED, Post
from fastblog.posts.visibility import PostVisibility, VisibilityChange

ARTICLE_COLUMNS = (
    Post.id,
    Post.slug,
    Post.title,
    Post.content_html,
    Post.excerpt,
    Post.published_at,
    Post.updated_at,
    Post.user_id,
    Post.tag_names,
    Post.feature_image,
    Post.feature_image_alt,
)


async def article_of(session: AsyncSession, base: str, post_id: int) -> dict[str, Any] | None:
    """The post as an Article, with its remote likes and boosts counted (None: no such post)."""
    await session.flush()  # an edit's own changes (and its tags, through triggers) first
    row = (await session.execute(select(*ARTICLE_COLUMNS).where(Post.id == post_id))).first()
    if row is None:
        return None
    counts: dict[str, int] = {
        kind: count
        for kind, count in await session.execute(
            select(Reaction.kind, func.count())
            .where(Reaction.post_id == post_id)
            .group_by(Reaction.kind)
        )
    }
    return documents.article(
        base, row, likes=counts.get("like", 0), shares=counts.get("announce", 0)
    )


def was_visible(post: Post) -> bool:
    """Readers could see it (and so followers were sent it) before this change."""
    return (
        post.status == PUBLISHED
        and post.published_at is not None
        and post.published_at <= utcnow()
        and not post.announce_pending
    )


class Announcer:
    def __init__(self, base: str, wake: Callable[[], None]) -> None:
        self.base = base
        self.wake = wake  # the delivery sender's, after a commit that queued deliveries

    # Each handler: whether it queued a delivery (fastblog.posts.visibility.Handler).
    async def on_visibility(
        self, session: AsyncSession, changes: Sequence[VisibilityChange]
    ) -> bool:
        queued = False
        for change in changes:
            if not change.visible:
                queued |= await self._withdrawn(session, change)
        shown = [change for change in changes if change.visible]
        if shown:
            queued |= await self._published(session, shown)
        return queued

    async def _published(self, session: AsyncSession, changes: list[VisibilityChange]) -> bool:
        # A post taken back to draft (or an id SQLite reused) was told deleted: no longer.
        ids = [change.post_id for change in changes]
        await session.execute(delete(Tombstone).where(Tombstone.post_id.in_(ids)))
        return await self._articles_to_followers(session, changes, documents.create)

    async def _withdrawn(self, session: AsyncSession, change: VisibilityChange) -> bool:
        post = await session.get(Post, change.post_id)
        if post is None or not was_visible(post):
            return False  # never sent: nothing to take back
        now = utcnow()
        if await session.get(Tombstone, change.post_id) is None:
            session.add(Tombstone(post_id=change.post_id, author_id=change.author_id))
        inboxes = await follower_inboxes(session, change.author_id)
        activity = documents.delete(self.base, change.post_id, change.author_id, deleted_at=now)
        queued = await queue_activity(
            session, activity=activity, author_id=change.author_id, inboxes=inboxes
        )
        return queued > 0

    async def on_edit(self, session: AsyncSession, changes: Sequence[VisibilityChange]) -> bool:
        return await self._articles_to_followers(session, changes, documents.update)

    async def _articles_to_followers(
        self,
        session: AsyncSession,
        changes: Sequence[VisibilityChange],
        activity_of: Callable[[str, dict[str, Any]], dict[str, Any]],
    ) -> bool:
        """Each post's article, wrapped by `activity_of` (a Create, an Update), queued for its
        author's remote followers: whether any delivery was queued. (One read finds the
        followers of all the authors: most posts of most blogs have none.)"""
        inboxes = await followers_inboxes(session, {change.author_id for change in changes})
        queued = 0
        for change in changes:
            if not inboxes.get(change.author_id):
                continue
            article = await article_of(session, self.base, change.post_id)
            if article is None:
                continue
            queued += await queue_activity(
                session,
                activity=activity_of(self.base, article),
                author_id=change.author_id,
                inboxes=inboxes[change.author_id],
            )
        return queued > 0


def install(visibility: PostVisibility, announcer: Announcer) -> None:
    visibility.on_change(announcer.on_visibility, after_commit=announcer.wake)
    visibility.on_edit(announcer.on_edit, after_commit=announcer.wake)
