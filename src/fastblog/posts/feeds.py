"""Atom feeds (RFC 4287): the site's, an author's and a tag's 20 latest posts, in full.

Each feed is one compiled statement; the XML is built with xml.etree, which escapes every
text and attribute, so no user-written text is ever pasted into markup.
"""

import functools
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, select, true

from fastblog.accounts.models import User
from fastblog.db import Database, Row, utcnow
from fastblog.posts.meta import author_path, post_path
from fastblog.posts.models import Post, PostTag
from fastblog.posts.queries import NOW, TAG_ID

FEED_SIZE = 20
ATOM_NAMESPACE = "http://www.w3.org/2005/Atom"
ATOM_MEDIA_TYPE = "application/atom+xml; charset=utf-8"
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
# Characters XML 1.0 cannot carry at all (not even escaped); a post may hold them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

# What readers see (published, due), newest first in the reading order.
ENTRY_COLUMNS = (
    Post.id,
    Post.title,
    Post.slug,
    Post.content_html,
    Post.user_id,
    Post.published_at,
    Post.updated_at,
    Post.date_posted,
    User.username.label("author_username"),
)


def _latest(at: Any, row_id: Any, *where: Any) -> Any:
    """The newest visible posts: their ids from an index on (…, published_at, id) first,
    then their rows (see fastblog.posts.queries._page: a plan that cannot turn into a scan
    of posts, whatever the statistics say). A published_at up to now is a published post's
    (the check constraint status_published_at)."""
    ids = (
        select(at.label("at"), row_id.label("id"))
        .where(*where, at <= NOW)
        .order_by(at.desc(), row_id.desc())
        .limit(bindparam("limit"))
        .subquery("latest")
    )
    return (
        select(*ENTRY_COLUMNS)
        .select_from(ids)
        .join(Post, Post.id == ids.c.id)
        .join(User, User.id == Post.user_id)
        .order_by(ids.c.at.desc(), ids.c.id.desc())
    )


LATEST = _latest(Post.published_at, Post.id)
# A tag's: a range of post_tags' (tag_id, published_at, post_id) index.
LATEST_WITH_TAG = _latest(PostTag.published_at, PostTag.post_id, PostTag.tag_id == TAG_ID)
# From the user, so a user without posts still gives one row (an empty feed, not a 404);
# their posts' ids from a range of posts' (user_id, published_at, id) index first. (Joined
# to the user and then sorted, PostgreSQL read every visible post of the author, content
# and all, and sorted them for the 20 newest.)
_AUTHORS_LATEST = (
    select(Post.published_at.label("at"), Post.id.label("id"))
    .where(Post.user_id == bindparam("user_id"), Post.published_at <= NOW)
    .order_by(Post.published_at.desc(), Post.id.desc())
    .limit(bindparam("limit"))
    .subquery("latest")
)
LATEST_BY_AUTHOR = (
    select(*ENTRY_COLUMNS, User.id.label("author_id"))
    .select_from(User)
    .outerjoin(_AUTHORS_LATEST, true())
    .outerjoin(Post, Post.id == _AUTHORS_LATEST.c.id)
    .where(User.id == bindparam("user_id"))
    .order_by(_AUTHORS_LATEST.c.at.desc(), _AUTHORS_LATEST.c.id.desc())
)


async def fetch_latest(db: Database) -> list[Row]:
    return await db.fetch(LATEST, {"limit": FEED_SIZE, "now": utcnow()})


async def fetch_latest_by_author(db: Database, user_id: int) -> tuple[str, list[Row]] | None:
    """The author's name and latest posts, or None when there is no such user."""
    values = {"user_id": user_id, "limit": FEED_SIZE, "now": utcnow()}
    rows = await db.fetch(LATEST_BY_AUTHOR, values)
    if not rows:
        return None
    return rows[0]["author_username"], [row for row in rows if row["id"] is not None]


async def fetch_latest_with_tag(db: Database, tag: str) -> list[Row] | None:
    """The latest posts with this tag, or None when no published post has it (a 404, as
    the tag's page)."""
    rows = await db.fetch(LATEST_WITH_TAG, {"tag": tag, "limit": FEED_SIZE, "now": utcnow()})
    return rows or None


@dataclass(frozen=True, slots=True)
class Feed:
    url: str  # the feed's own absolute address: its id and rel="self"
    page_url: str  # the HTML page it follows
    title: str
    subtitle: str


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds")


def _add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    element.text = text
    return element


def xml_text(text: str) -> str:
    """User-written text without the characters XML cannot carry (ElementTree would write
    them anyway, and the feed would not parse)."""
    return _NOT_XML.sub("", text)


def entry_id(post: Mapping[str, Any], authority: str) -> str:
    """A tag: URI (RFC 4151), tag:AUTHORITY,DATE:/posts/ID. Feed readers know an entry by its
    id: it must not change when the post's address does (a new slug, a new domain, http to
    https), or every post is announced again. The date is the day the post was first written
    (date_posted, never changed: a publication date can be moved); the authority is fixed by
    FEED_ID_AUTHORITY, which a blog that moves keeps at its old host."""
    return f"tag:{authority},{post['date_posted']:%Y-%m-%d}:/posts/{post['id']}"


def _entry(feed: ET.Element, post: Mapping[str, Any], site: str, authority: str) -> None:
    entry = _add(feed, "entry")
    _add(entry, "id", entry_id(post, authority))
    _add(entry, "title", xml_text(post["title"]))
    _add(entry, "link", rel="alternate", type="text/html", href=site + post_path(post))
    _add(entry, "published", _timestamp(post["published_at"]))
    _add(entry, "updated", _timestamp(max(post["published_at"], post["updated_at"])))
    author = _add(entry, "author")
    _add(author, "name", xml_text(post["author_username"]))
    _add(author, "uri", site + author_path(post["user_id"]))
    # No <summary>: with the full content inline, Atom needs none and readers show the content.
    # Rendered from Markdown and sanitized (nh3) when the post was written.
    _add(entry, "content", xml_text(post["content_html"]), type="html")


# What an entry shows. A feed is a function of these values, its Feed and the site's address
# only, so a feed whose posts have not changed since it was last built is served from memory:
# building and serializing 20 posts costs several times the one statement that reads them.
ENTRY_FIELDS = (
    "id",
    "title",
    "slug",
    "content_html",
    "user_id",
    "published_at",
    "updated_at",
    "date_posted",
    "author_username",
)
Entries = tuple[tuple[Any, ...], ...]


def atom_feed(
    feed: Feed, posts: Iterable[Mapping[str, Any]], *, site: str, authority: str
) -> bytes:
    entries = tuple(tuple(post[name] for name in ENTRY_FIELDS) for post in posts)
    return _atom_feed(feed, entries, site, authority)


# The key holds every value the document is made of (compared in full on a hash match), so
# an edit, a deletion or a new post is a different key: nothing stale can be served.
@functools.lru_cache(maxsize=64)
def _atom_feed(feed: Feed, entries: Entries, site: str, authority: str) -> bytes:
    posts = [dict(zip(ENTRY_FIELDS, values, strict=True)) for values in entries]
    root = ET.Element("feed", {"xmlns": ATOM_NAMESPACE})
    _add(root, "id", feed.url)
    _add(root, "title", xml_text(feed.title))
    _add(root, "subtitle", xml_text(feed.subtitle))
    newest = max((max(post["published_at"], post["updated_at"]) for post in posts), default=None)
    _add(root, "updated", _timestamp(newest or utcnow()))
    _add(root, "link", rel="self", type="application/atom+xml", href=feed.url)
    _add(root, "link", rel="alternate", type="text/html", href=feed.page_url)
    _add(root, "generator", "fastblog")
    _add(root, "icon", f"{site}/favicon.ico")
    for post in posts:
        _entry(root, post, site, authority)
    # Serialized to str, then encoded once: ElementTree's own encoding writes each piece
    # through a codec, twice as slow for a feed of 20 posts.
    return (XML_DECLARATION + ET.tostring(root, encoding="unicode")).encode()
