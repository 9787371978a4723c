"""Pictures for posts: made in the process pool, saved in the media store, recorded in `media`;
found again by the URLs a post's Markdown names; pruned when nothing uses them."""

import asyncio
import re
from collections.abc import Iterable
from concurrent.futures import Executor
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.db import Database
from fastblog.media.images import Processed, make_variants
from fastblog.media.models import Media
from fastblog.media.schemas import Picture, Source
from fastblog.media.store import MEDIA_URL_PREFIX, MediaStore

# A picture's address as Markdown names it: /media/pictures/<hash>.<ext>, with or without
# the site's own scheme and host in front.
PICTURE_URL = re.compile(rf"{MEDIA_URL_PREFIX}/(pictures/[0-9a-f]{{20}}\.(?:jpg|png|webp))")
# Browsers cache a picture for a year and never ask again: its name changes with its bytes.
IMMUTABLE = "public, max-age=31536000, immutable"


async def make_picture(pool: Executor, data: bytes, *, max_pixels: int) -> Processed:
    # Decoding and resizing is CPU work (tens to hundreds of ms): in the process pool, never
    # on the event loop; only the bytes in and the variants out cross the pipe.
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(pool, make_variants, data, max_pixels)


async def save_picture(
    database: Database,
    store: MediaStore,
    pool: Executor,
    *,
    owner_id: int,
    data: bytes,
    alt: str,
    max_pixels: int,
) -> Picture:
    """Check and process the upload, store its variants, then record it."""
    processed = await make_picture(pool, data, max_pixels=max_pixels)
    # The same bytes make the same names: a picture uploaded twice is stored once per name.
    await asyncio.gather(
        *(
            store.save(v.key, v.data, content_type=v.content_type, cache_control=IMMUTABLE)
            for v in processed.variants
        )
    )
    main = [v for v in processed.variants if v.width == processed.width][-1]
    try:
        return await _record(database, processed, main.key, owner_id=owner_id, alt=alt)
    except IntegrityError:  # the same picture, uploaded at the same moment: its row is there
        return await _record(database, processed, main.key, owner_id=owner_id, alt=alt)


async def _record(
    database: Database, processed: Processed, key: str, *, owner_id: int, alt: str
) -> Picture:
    async with database.transaction() as session:
        media = Media(
            owner_id=owner_id,
            key=key,
            alt=alt,
            width=processed.width,
            height=processed.height,
            variants=[
                {"key": v.key, "width": v.width, "height": v.height, "type": v.content_type}
                for v in processed.variants
            ],
        )
        existing = await session.scalar(select(Media).where(Media.key == key))
        if existing is not None:  # the same picture again: one row, the new alt text
            existing.alt = alt or existing.alt
            media = existing
        else:
            session.add(media)
        await session.commit()
    return picture_of(media)


def picture_of(media: Media) -> Picture:
    webp = [v for v in media.variants if v["type"] == "image/webp"]
    return Picture(
        id=media.id,
        url=f"{MEDIA_URL_PREFIX}/{media.key}",
        width=media.width,
        height=media.height,
        alt=media.alt,
        srcset=[Source(url=f"{MEDIA_URL_PREFIX}/{v['key']}", width=v["width"]) for v in webp],
    )


def keys_in(text: str) -> set[str]:
    """The store keys of the uploaded pictures a Markdown text may name."""
    return set(PICTURE_URL.findall(text))


async def pictures_named(session: AsyncSession, texts: Iterable[str]) -> dict[str, Picture]:
    """The uploaded pictures the texts name, by URL (/media/<key>): one query, none if the
    texts name no picture."""
    keys = set().union(*(keys_in(text) for text in texts))
    if not keys:
        return {}
    rows = await session.scalars(select(Media).where(Media.key.in_(sorted(keys))))
    return {f"{MEDIA_URL_PREFIX}/{media.key}": picture_of(media) for media in rows}


async def pictures_in(db: Database, *texts: str) -> dict[str, Picture]:
    """`pictures_named` in a session of its own; no query when the texts name no picture."""
    if not any(keys_in(text) for text in texts):
        return {}
    async with db.session() as session:
        return await pictures_named(session, texts)


async def prune_pictures(
    db: Database, store: MediaStore, *, older_than: datetime, in_use: set[str]
) -> list[str]:
    """Delete the pictures uploaded before `older_than` whose keys no text in use names (the
    grace period spares a picture uploaded for a post not saved yet); their keys."""
    async with db.transaction() as session:
        rows = await session.scalars(select(Media).where(Media.created_at < older_than))
        unused = [media for media in rows if media.key not in in_use]
        if not unused:
            return []
        await session.execute(delete(Media).where(Media.id.in_([m.id for m in unused])))
        await session.commit()
    # The rows first: a file left behind by a failure here is only a file, never a row that
    # points at nothing. Variants may be shared by two rows only if their bytes are the same,
    # and then their keys are too: the same row.
    for media in unused:
        await asyncio.gather(*(store.delete(variant["key"]) for variant in media.variants))
    return [media.key for media in unused]
