"""Sitemaps (sitemaps.org 0.9): every post and every author with a post.

A sitemap holds at most 50,000 URLs. Past that, /sitemap.xml becomes a sitemap index, and
each sitemap in it covers one range of ids (posts 1 to 50,000, 50,001 to 100,000, …): a range scan
of the primary key, as cheap for the last sitemap of a big blog as for the first, where
OFFSET would read and skip every row before it. Ids are never reused, so a range can only
hold fewer URLs than its width (deleted posts), never more. Whether to split is decided from
the highest ids (two index lookups), a bound on the number of URLs that needs no count.
"""

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import bindparam, exists, func, select

from fastblog.accounts.models import User
from fastblog.db import Database, utcnow
from fastblog.posts.feeds import XML_DECLARATION
from fastblog.posts.meta import author_path, post_path
from fastblog.posts.models import Post
from fastblog.posts.queries import VISIBLE

SITEMAP_LIMIT = 50_000
SITEMAP_NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"
XML_MEDIA_TYPE = "application/xml; charset=utf-8"

Kind = Literal["posts", "authors"]

HIGHEST_IDS = select(
    select(func.max(Post.id)).scalar_subquery().label("posts"),
    select(func.max(User.id)).scalar_subquery().label("authors"),
)
# What readers see only: published posts whose time has come.
POSTS_IN_RANGE = (
    select(Post.id, Post.slug, Post.updated_at.label("lastmod"))
    .where(Post.id.between(bindparam("first"), bindparam("last")), VISIBLE)
    .order_by(Post.id)
)
# An author's page changes when they publish: its last change is their newest post's date,
# read from the (user_id, published_at) index.
_NEWEST = (
    select(func.max(Post.published_at)).where(Post.user_id == User.id, VISIBLE).scalar_subquery()
)
AUTHORS_IN_RANGE = (
    select(User.id, _NEWEST.label("lastmod"))
    .where(
        User.id.between(bindparam("first"), bindparam("last")),
        exists().where(Post.user_id == User.id, VISIBLE),
    )
    .order_by(User.id)
)


@dataclass(frozen=True, slots=True)
class Url:
    path: str
    lastmod: datetime | None = None


async def highest_ids(db: Database) -> tuple[int, int]:
    row = await db.fetch_one(HIGHEST_IDS)
    return (row["posts"] or 0, row["authors"] or 0) if row else (0, 0)


def sitemap_count(highest: int, limit: int) -> int:
    """How many id ranges of `limit` ids cover ids 1…highest."""
    return -(-highest // limit)


async def fetch_urls(db: Database, kind: Kind, *, number: int, limit: int) -> list[Url]:
    """The URLs of one id range: ids (number - 1) * limit + 1 … number * limit."""
    values = {"first": (number - 1) * limit + 1, "last": number * limit, "now": utcnow()}
    if kind == "posts":
        rows = await db.fetch(POSTS_IN_RANGE, values)
        return [Url(post_path(row), row["lastmod"]) for row in rows]
    rows = await db.fetch(AUTHORS_IN_RANGE, values)
    return [Url(author_path(row["id"]), row["lastmod"]) for row in rows]


def _date(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds")


def _document(root_tag: str, item_tag: str, items: Iterable[tuple[str, datetime | None]]) -> bytes:
    root = ET.Element(root_tag, {"xmlns": SITEMAP_NAMESPACE})
    for location, lastmod in items:
        item = ET.SubElement(root, item_tag)
        ET.SubElement(item, "loc").text = location
        if lastmod is not None:
            ET.SubElement(item, "lastmod").text = _date(lastmod)
    return (XML_DECLARATION + ET.tostring(root, encoding="unicode")).encode()


def urlset(urls: Iterable[Url], *, site: str) -> bytes:
    return _document("urlset", "url", ((site + url.path, url.lastmod) for url in urls))


def sitemap_index(paths: Iterable[str], *, site: str) -> bytes:
    return _document("sitemapindex", "sitemap", ((site + path, None) for path in paths))
