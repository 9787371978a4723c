"""The federation routes' reads, each one statement."""

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, exists, func, select

from fastblog.accounts.models import User
from fastblog.db import Database, utcnow
from fastblog.federation.announce import ARTICLE_COLUMNS
from fastblog.federation.models import ActorKey, RemoteActor, RemoteFollower, Tombstone
from fastblog.posts.models import PUBLISHED, Post

_LOCAL = ~exists().where(RemoteActor.user_id == User.id)  # not a remote author's stand-in


def _visible(now: datetime) -> Any:
    return (Post.status == PUBLISHED) & (Post.published_at <= now)


async def local_author(
    db: Database, *, user_id: int | None = None, username: str | None = None
) -> Any:
    """The local account (id, username, bio_html, image_file) by id or username, or None."""
    if user_id is None and not username:
        return None
    where = (
        User.id == user_id
        if user_id is not None
        else func.lower(User.username) == str(username).lower()
    )
    async with db.session() as session:
        return (
            await session.execute(
                select(User.id, User.username, User.bio_html, User.image_file).where(where, _LOCAL)
            )
        ).first()


# A key whose account is gone (kept to sign, and let others verify, the account's Delete).
_DELETED_AUTHOR_KEY = select(ActorKey.public_pem).where(
    ActorKey.user_id == bindparam("user_id"),
    ~exists().where(User.id == ActorKey.user_id),
)


async def deleted_author_key(db: Database, user_id: int) -> str | None:
    """The public key of a deleted author's account, or None (no such author ever here)."""
    row = await db.fetch_one(_DELETED_AUTHOR_KEY, {"user_id": user_id})
    return None if row is None else str(row["public_pem"])


async def usage(db: Database) -> tuple[int, int]:
    """Local accounts, and the posts readers can see."""
    async with db.session() as session:
        users = await session.scalar(select(func.count()).select_from(User).where(_LOCAL))
        posts = await session.scalar(
            select(func.count()).select_from(Post).where(_visible(utcnow()))
        )
    return int(users or 0), int(posts or 0)


async def count_visible_posts(db: Database, user_id: int) -> int:
    async with db.session() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(Post)
            .where(Post.user_id == user_id, _visible(utcnow()))
        )
    return int(count or 0)


async def visible_posts(db: Database, user_id: int, *, offset: int, limit: int) -> list[Any]:
    """A page of the author's visible posts, newest first, as Articles read them."""
    async with db.session() as session:
        return list(
            (
                await session.execute(
                    select(*ARTICLE_COLUMNS)
                    .where(Post.user_id == user_id, _visible(utcnow()))
                    .order_by(Post.published_at.desc(), Post.id.desc())
                    .offset(offset)
                    .limit(limit)
                )
            ).all()
        )


async def count_followers(db: Database, user_id: int) -> int:
    async with db.session() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(RemoteFollower)
            .where(RemoteFollower.user_id == user_id)
        )
    return int(count or 0)


async def is_visible(db: Database, post_id: int) -> bool:
    async with db.session() as session:
        found = await session.scalar(select(Post.id).where(Post.id == post_id, _visible(utcnow())))
    return found is not None


async def tombstone(db: Database, post_id: int) -> datetime | None:
    async with db.session() as session:
        return await session.scalar(
            select(Tombstone.deleted_at).where(Tombstone.post_id == post_id)
        )
