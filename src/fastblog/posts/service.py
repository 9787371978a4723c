"""Posts through the ORM road: the writes that load, lock and change a post, and the reads
they start from. (Page views and new posts are single statements: fastblog.posts.queries.)"""

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from fastblog.posts.models import Post


def _with_author(stmt: Select[Post]) -> Select[Post]:
    # Many-to-one: a JOIN in the same query is cheaper than a second SELECT.
    return stmt.options(joinedload(Post.author, innerjoin=True))


async def get_post(session: AsyncSession, post_id: int, *, lock: bool = False) -> Post | None:
    """The post with its author; `lock` locks the post's row in a write transaction."""
    stmt = _with_author(select(Post)).where(Post.id == post_id)
    if lock:
        stmt = stmt.with_for_update(of=Post)
    return (await session.scalars(stmt)).one_or_none()


async def update_post(session: AsyncSession, *, post: Post, changes: dict[str, Any]) -> Post:
    for field, value in changes.items():
        setattr(post, field, value)
    await session.commit()
    return post


async def delete_post(session: AsyncSession, *, post: Post) -> None:
    await session.delete(post)
    await session.commit()
