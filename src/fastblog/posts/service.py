"""Writing posts: rendering the Markdown (before any transaction), then the writes that take
several statements or a lock. (Page views and a new post without tags are single statements:
fastblog.posts.queries.)"""

import asyncio
from collections.abc import Iterable
from concurrent.futures import Executor
from datetime import date, datetime
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from fastblog.accounts.models import User
from fastblog.accounts.moderation import log_deletion
from fastblog.db import FOR_KEY_SHARE, FOR_UPDATE, Database
from fastblog.exceptions import InvalidInputError, NotFoundError
from fastblog.media.service import pictures_in
from fastblog.posts import queries
from fastblog.posts.markdown import ExternalImages, Figure, Rendered, render, slug_of
from fastblog.posts.models import (
    COUNT_SLOTS,
    DRAFT,
    PUBLISHED,
    REVIEW,
    Post,
    PostCount,
    PostTag,
    ScheduledPostCount,
    ScheduledTagPostCount,
    Tag,
    TagPostCount,
    UserPostCount,
    UserTagPostCount,
)
from fastblog.posts.permissions import check_write
from fastblog.posts.schemas import PostWrite
from fastblog.posts.visibility import PostVisibility

# Measured (bench-free, one core of this 2-core machine, CPU time): a 1 KB post renders in
# ~2.5 ms, 5 KB in ~9 ms, 20 KB in ~30 ms, the 100 KB maximum in ~150 ms; sending a post to the
# process pool and back costs the event loop ~0.8 ms of pickling and pipe work whatever its
# size. Up to 1,000 characters (a short post, like the benchmark's; ≲ 2 ms) rendering inline is
# cheaper than the round trip; anything longer would stall every other request for longer than
# the round trip costs, so it goes to the process pool.
INLINE_RENDER_MAX_CHARS = 1_000


async def figures_in(db: Database, *texts: str) -> dict[str, Figure]:
    """What the renderer needs of the uploaded pictures the content names (one query, none
    when it names none): the renderer stays pure and never reads the database."""
    return {
        url: Figure(
            src=picture.url,
            width=picture.width,
            height=picture.height,
            alt=picture.alt,
            srcset=tuple((source.url, source.width) for source in picture.srcset),
        )
        for url, picture in (await pictures_in(db, *texts)).items()
    }


async def render_content(
    pool: Executor,
    content: str,
    *,
    db: Database,
    external_images: ExternalImages = "link",
    figures: dict[str, Figure] | None = None,
) -> Rendered:
    if figures is None:
        figures = await figures_in(db, content)
    render_ = partial(render, pictures=figures, external_images=external_images)
    if len(content) <= INLINE_RENDER_MAX_CHARS:
        return render_(content)  # short: inline, see INLINE_RENDER_MAX_CHARS
    # Long: CPU work for tens of milliseconds, in the process pool (render is top-level and
    # its arguments and result pickle), never on the event loop.
    return await asyncio.get_running_loop().run_in_executor(pool, render_, content)


NOT_UPLOADED = "The feature image is the URL of a picture uploaded here (POST /api/media)."


def _picture(figure: Figure, *, alt: str, feature: bool) -> dict[str, Any]:
    return {
        "url": figure.src,
        "width": figure.width,
        "height": figure.height,
        "alt": alt,
        "srcset": [list(source) for source in figure.srcset],
        "feature": feature,
    }


async def render_post(
    pool: Executor,
    content: str,
    *,
    db: Database,
    feature_image: str | None,
    feature_image_alt: str | None,
    external_images: ExternalImages = "link",
) -> tuple[Rendered, dict[str, Any] | None]:
    """The content rendered, and the post's share picture (the `picture` column): the
    feature image's, else the content's first uploaded picture's. One query finds both."""
    path = urlsplit(feature_image).path if feature_image else ""
    figures = await figures_in(db, content, path)
    rendered = await render_content(
        pool, content, db=db, external_images=external_images, figures=figures
    )
    if path:
        figure = figures.get(path)
        if figure is None:
            raise InvalidInputError(NOT_UPLOADED, field="feature_image")
        return rendered, _picture(figure, alt=feature_image_alt or figure.alt, feature=True)
    first = rendered.picture
    return rendered, None if first is None else _picture(first, alt=first.alt, feature=False)


def publication(
    status: str, published_at: datetime | None, *, was: datetime | None, now: datetime
) -> datetime | None:
    """When a post of `status` is published: as asked, else when it already was, else now."""
    if status in (DRAFT, REVIEW):
        return None
    return published_at or was or now


def stored_status(status: str) -> str:
    """The status column's value: a post in review is a draft with submitted_at set."""
    return DRAFT if status == REVIEW else status


def new_post_values(
    *,
    title: str,
    content: str,
    rendered: Rendered,
    status: str,
    published_at: datetime | None,
    now: datetime,
    comments_enabled: bool = True,
    feature_image: str | None = None,
    feature_image_alt: str | None = None,
    picture: dict[str, Any] | None = None,
    send_newsletter: bool = False,
) -> dict[str, Any]:
    """Every column of a new post (fastblog.posts.queries.INSERTED_COLUMNS). A published or
    scheduled post is announced when it becomes visible (fastblog.posts.visibility)."""
    return {
        "title": title,
        "slug": slug_of(title),
        "content": content,
        "content_html": rendered.html,
        "excerpt": rendered.excerpt,
        "body_text": rendered.text,
        "status": stored_status(status),
        "submitted_at": now if status == REVIEW else None,
        "published_at": publication(status, published_at, was=None, now=now),
        "updated_at": now,
        "date_posted": now,
        "comments_enabled": comments_enabled,
        "feature_image": urlsplit(feature_image).path if feature_image else None,
        "feature_image_alt": feature_image_alt or None,
        "picture": picture,
        "send_newsletter": send_newsletter,
        "announce_pending": stored_status(status) == PUBLISHED,
    }


async def _tag_ids(session: AsyncSession, names: list[str]) -> list[int]:
    """The tags' ids, creating the new ones; a tag another writer creates at the same moment
    is simply found (INSERT … ON CONFLICT DO NOTHING)."""
    if not names:
        return []
    dialect = session.get_bind().dialect.name
    upsert = postgresql.insert(Tag) if dialect == "postgresql" else sqlite.insert(Tag)
    await session.execute(
        upsert.on_conflict_do_nothing(index_elements=["name"]),
        # In one order for every writer: two posts adding the same new tags cannot deadlock.
        [{"name": name} for name in sorted(names)],
    )
    return list((await session.scalars(select(Tag.id).where(Tag.name.in_(names)))).all())


async def _replace_tags(session: AsyncSession, post_id: int, tag_ids: list[int]) -> None:
    await session.execute(delete(PostTag).where(PostTag.post_id == post_id))
    if tag_ids:
        # By tag id: the counting triggers lock the tags' counter rows in this order.
        await session.execute(
            insert(PostTag), [{"post_id": post_id, "tag_id": tag_id} for tag_id in sorted(tag_ids)]
        )


async def _set_tags(session: AsyncSession, post_id: int, names: list[str]) -> None:
    await _replace_tags(session, post_id, await _tag_ids(session, names))


def _counter_upsert(dialect: str, model: type[Any]) -> Any:
    """A counter row by its primary key (slot or day included): a no-op update that still
    locks the row (or creates it at zero)."""
    upsert = postgresql.insert(model) if dialect == "postgresql" else sqlite.insert(model)
    table = model.__table__
    return upsert.on_conflict_do_update(
        index_elements=list(table.primary_key.columns), set_={"posts": table.c.posts}
    )


def scheduled_days(*published_at: datetime | None, now: datetime) -> list[date]:
    """The UTC days of those publication times still ahead of `now`: the day counters
    (ScheduledPostCount, migration 0030) a write of a post at those times changes."""
    return sorted({queries.utc_day(at) for at in published_at if at and at > now})


async def _lock_days(session: AsyncSession, days: Iterable[date]) -> None:
    upsert = _counter_upsert(session.get_bind().dialect.name, ScheduledPostCount)
    for day in sorted(set(days)):
        await session.execute(upsert, {"day": day, "posts": 0})


async def lock_authors_scheduled_days(session: AsyncSession, user_id: int) -> None:
    """Before an account's deletion (an AccountDeletion handler): the day rows of its
    scheduled posts, locked first and in order, as every writer takes them (lock_counters).
    The cascade then uncounts post after post, each one's day row, then its site's and
    author's counter rows: unlocked before, the day row of a later post came after the
    site's row of an earlier one, and an edit taking them the other way deadlocked with it.
    Ahead of the database's own now(), which its triggers compare with."""
    ahead = select(Post.published_at).where(Post.user_id == user_id, Post.published_at > func.now())
    times = await session.scalars(ahead)
    await _lock_days(session, {queries.utc_day(at) for at in times if at is not None})


async def lock_counters(
    session: AsyncSession,
    *,
    post_id: int,
    user_id: int,
    tag_ids: Iterable[int],
    days: Iterable[date] = (),
) -> None:
    """Lock, before a write that changes them, the counter rows its triggers will change:
    the scheduled posts' day rows (`days`: scheduled_days of the post's old and new
    publication times), the site's, the author's, the tags' by id, the author's with each
    tag, then each tag's day rows, the one order every writer takes (see migrations 0008,
    0023 and 0030), so two writers sharing counter rows wait for each other instead of
    deadlocking.
    (On SQLite writes never overlap; the same statements keep both roads alike.)"""
    dialect = session.get_bind().dialect.name
    slot = post_id % COUNT_SLOTS
    days = sorted(set(days))
    tag_ids = sorted(set(tag_ids))
    await _lock_days(session, days)  # none for a post published now
    await session.execute(select(PostCount.slot).where(PostCount.slot == slot).with_for_update())
    await session.execute(
        _counter_upsert(dialect, UserPostCount),
        {"user_id": user_id, "slot": slot, "posts": 0},
    )
    for tag_id in tag_ids:
        await session.execute(
            _counter_upsert(dialect, TagPostCount),
            {"tag_id": tag_id, "slot": slot, "posts": 0},
        )
    # Then the author's with each tag (migration 0023), which post_tags' triggers change
    # after the tags', and last the tags' day rows (migration 0030), which they change last.
    for tag_id in tag_ids:
        await session.execute(
            _counter_upsert(dialect, UserTagPostCount),
            {"user_id": user_id, "tag_id": tag_id, "slot": slot, "posts": 0},
        )
    for tag_id in tag_ids:
        for day in days:
            await session.execute(
                _counter_upsert(dialect, ScheduledTagPostCount),
                {"tag_id": tag_id, "day": day, "posts": 0},
            )


async def create_post_with_tags(
    db: Database,
    *,
    values: dict[str, Any],
    tags: list[str],
    author_id: int,
    auth_version: int,
    status: str,
) -> int | None:
    """A post and its tags, in one transaction; its id, or None if the author is gone (or
    their token was revoked since: `auth_version` moved on). The author's role is checked
    again under the lock: a role taken away meanwhile counts."""
    async with db.transaction() as session:
        author = await session.get(User, author_id, with_for_update=FOR_KEY_SHARE)
        if author is None or author.auth_version != auth_version:
            return None
        check_write(author.role, status)
        post = Post(**values, user_id=author_id)
        session.add(post)
        await session.flush()
        await _set_tags(session, post.id, tags)
        await session.commit()
        return post.id


async def create_post(
    db: Database,
    pool: Executor,
    *,
    data: PostWrite,
    author_id: int,
    auth_version: int,
    now: datetime,
    external_images: ExternalImages = "link",
    send_newsletter: bool = False,
) -> dict[str, Any] | None:
    """The new post as the API shows it, or None if its author is gone or the token (or
    session) that names them was revoked; ForbiddenError if their role does not allow it
    (without tags: read with the author, before the Markdown is rendered; with tags: in the
    transaction that writes them, which already reads the author)."""

    async def values() -> dict[str, Any]:
        rendered, picture = await render_post(
            pool,
            data.content,
            db=db,
            feature_image=data.feature_image,
            feature_image_alt=data.feature_image_alt,
            external_images=external_images,
        )
        return new_post_values(
            title=data.title,
            content=data.content,
            rendered=rendered,
            status=data.status,
            published_at=data.published_at,
            now=now,
            comments_enabled=data.comments_enabled,
            feature_image=data.feature_image,
            feature_image_alt=data.feature_image_alt,
            picture=picture,
            send_newsletter=send_newsletter,
        )

    if not data.tags:  # the common case: one read of the author, then one INSERT
        author = await queries.fetch_author(db, author_id=author_id, auth_version=auth_version)
        if author is None:
            return None
        check_write(author["role"], data.status)
        return await queries.insert_post(
            db,
            values=await values(),
            author_id=author_id,
            auth_version=auth_version,
            author=author,
        )
    post_id = await create_post_with_tags(
        db,
        values=await values(),
        tags=data.tags,
        author_id=author_id,
        auth_version=auth_version,
        status=data.status,
    )
    return None if post_id is None else await queries.fetch_post(db, post_id)


async def get_post(session: AsyncSession, post_id: int, *, lock: bool = False) -> Post | None:
    """The post with its author; `lock` locks the post's row in a write transaction."""
    stmt = select(Post).options(joinedload(Post.author, innerjoin=True)).where(Post.id == post_id)
    if lock:
        stmt = stmt.with_for_update(of=Post)
    return (await session.scalars(stmt)).one_or_none()


async def edit_post(
    db: Database,
    pool: Executor,
    *,
    post: dict[str, Any],
    changes: dict[str, Any],
    now: datetime,
    external_images: ExternalImages = "link",
    visibility: PostVisibility,
) -> dict[str, Any]:
    """Apply `changes` (title, content, tags, status, published_at) to the post (as
    fastblog.posts.queries.fetch_post returned it, its author already checked). Rendering
    comes first, outside the transaction (on SQLite it holds the database's write lock)."""
    columns: dict[str, Any] = {}
    if "title" in changes and changes["title"] != post["title"]:
        columns |= {"title": changes["title"], "slug": slug_of(changes["title"])}
    content = changes.get("content", post["content"])
    feature = {
        name: changes.get(name, post[name]) for name in ("feature_image", "feature_image_alt")
    }
    feature["feature_image"] = urlsplit(feature["feature_image"] or "").path or None
    feature["feature_image_alt"] = feature["feature_image_alt"] or None
    if content != post["content"] or any(feature[n] != post[n] for n in feature):
        rendered, picture = await render_post(
            pool, content, db=db, **feature, external_images=external_images
        )
        columns |= {
            "content": content,
            "content_html": rendered.html,
            "excerpt": rendered.excerpt,
            "body_text": rendered.text,
            "picture": picture,
            **feature,
        }
    if columns:
        columns["updated_at"] = now
    # Not an edit of what readers read: updated_at stays.
    if "comments_enabled" in changes:
        columns["comments_enabled"] = changes["comments_enabled"]
    # Acts only while the post's becoming visible is still to be announced.
    if changes.get("send_newsletter") is not None:
        columns["send_newsletter"] = changes["send_newsletter"]
    # Sending a publication date publishes the post; taking it back to draft clears it.
    status = changes.get("status") or (PUBLISHED if changes.get("published_at") else None)
    async with db.transaction() as session:
        locked = await session.get(Post, post["id"], with_for_update=FOR_UPDATE)
        if locked is None:  # deleted meanwhile
            raise NotFoundError("Post not found")
        if status is not None or "published_at" in changes:
            status = status or locked.status
            was = locked.published_at if locked.status == PUBLISHED else None
            columns["status"] = stored_status(status)
            # Submitted once, kept while in review; publishing or back to draft clears it.
            columns["submitted_at"] = (locked.submitted_at or now) if status == REVIEW else None
            columns["published_at"] = publication(
                status, changes.get("published_at"), was=was, now=now
            )
            await _announce_or_withdraw(session, visibility, locked, columns["status"])
        tag_ids = await _tag_ids(session, changes["tags"]) if "tags" in changes else None
        if tag_ids is not None or columns.get("status", locked.status) != locked.status:
            old_tags = select(PostTag.tag_id).where(PostTag.post_id == locked.id)
            involved = [*(await session.scalars(old_tags)).all(), *(tag_ids or [])]
            # (A draft has no published_at: the status check constraint.)
            at = locked.published_at
            days = scheduled_days(at, columns.get("published_at", at), now=now)
            await lock_counters(
                session, post_id=locked.id, user_id=locked.user_id, tag_ids=involved, days=days
            )
        # A visible post whose readable content changed (and stays visible): edited.
        content_edited = "updated_at" in columns or tag_ids is not None
        stays_visible = "status" not in columns or columns["status"] == locked.status
        visible_before = (
            locked.status == PUBLISHED
            and locked.published_at is not None
            and locked.published_at <= now
            and not locked.announce_pending
        )
        for name, value in columns.items():
            setattr(locked, name, value)
        if tag_ids is not None:
            await _replace_tags(session, locked.id, tag_ids)
        if content_edited and stays_visible and visible_before:
            await visibility.edited(session, post_id=locked.id, author_id=locked.user_id)
        await session.commit()
    visibility.changes_committed(session)
    edited = await queries.fetch_post(db, post["id"])
    if edited is None:  # deleted just after the edit
        raise NotFoundError("Post not found")
    return edited


async def _announce_or_withdraw(
    session: AsyncSession, visibility: PostVisibility, post: Post, status: str
) -> None:
    """Published now (from a draft): to be announced when visible. Taken back to draft: what
    its announcement started stops (fastblog.posts.visibility), in this transaction."""
    if status == PUBLISHED and post.status != PUBLISHED:
        post.announce_pending = True
    elif status != PUBLISHED and post.status == PUBLISHED:
        post.announce_pending = False
        await visibility.withdrawn(session, post_id=post.id, author_id=post.user_id)


async def delete_post(
    session: AsyncSession, *, post: Post, by_user_id: int, visibility: PostVisibility
) -> None:
    """Delete the post (its author checked, or an editor: then the deletion is logged); what
    its announcement started stops in the same transaction."""
    await visibility.withdrawn(session, post_id=post.id, author_id=post.user_id)
    await session.delete(post)
    await session.commit()
    visibility.changes_committed(session)
    if by_user_id != post.user_id:
        # Loaded by the check that allowed it, in this session: no query.
        moderator = await session.get(User, by_user_id)
        if moderator is not None:
            log_deletion(
                moderator,
                kind="post",
                item_id=post.id,
                author_id=post.user_id,
                author=post.author.username,
            )
