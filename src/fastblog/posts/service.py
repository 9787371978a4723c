"""Posts: queries and writes. Each read loads the author it will serialize, up front."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from fastblog.posts.models import Post
from fastblog.users.models import User

NEWEST_FIRST = (Post.date_posted.desc(), Post.id.desc())


def _with_author(stmt: Select[Post]) -> Select[Post]:
    # Many-to-one: a JOIN in the same query is cheaper than a second SELECT.
    return stmt.options(joinedload(Post.author, innerjoin=True))


async def list_posts(
    session: AsyncSession, *, skip: int, limit: int, user_id: int | None = None
) -> tuple[Sequence[Post], int]:
    """One page of posts, newest first, and how many there are in all (two queries)."""
    page = _with_author(select(Post)).order_by(*NEWEST_FIRST).offset(skip).limit(limit)
    count = select(func.count()).select_from(Post)
    if user_id is not None:
        page = page.where(Post.user_id == user_id)
        count = count.where(Post.user_id == user_id)
    posts = (await session.scalars(page)).all()
    total = await session.scalar(count) or 0
    return posts, total


async def get_post(session: AsyncSession, post_id: int, *, lock: bool = False) -> Post | None:
    """The post with its author; `lock` locks the post's row in a write transaction."""
    stmt = _with_author(select(Post)).where(Post.id == post_id)
    if lock:
        stmt = stmt.with_for_update(of=Post)
    return (await session.scalars(stmt)).one_or_none()


async def create_post(session: AsyncSession, *, title: str, content: str, author: User) -> Post:
    post = Post(title=title, content=content, author=author)
    session.add(post)
    await session.commit()
    return post


async def update_post(session: AsyncSession, *, post: Post, changes: dict[str, Any]) -> Post:
    for field, value in changes.items():
        setattr(post, field, value)
    await session.commit()
    return post


async def delete_post(session: AsyncSession, *, post: Post) -> None:
    await session.delete(post)
    await session.commit()
