"""What a post page links to besides the post: the previous and next post on the site and a few
more by the same author, in one compiled statement (three index walks joined by UNION ALL).

Each walk starts from the post's own place in the reading order, an index on
(published_at, id) (and on (user_id, published_at, id) for the author's), and sees published
posts only, so the cost does not grow with the blog.
"""

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, bindparam, literal_column, select, tuple_, union_all

from fastblog.db import Database, Row, UTCDateTime, utcnow
from fastblog.posts.models import Post
from fastblog.posts.queries import VISIBLE

MORE_BY_AUTHOR = 4

_COLUMNS = (Post.id, Post.title, Post.slug, Post.published_at)
# Where the post sits in the newest-first order; the route already has these values.
_HERE = tuple_(
    bindparam("published_at", type_=UTCDateTime()), bindparam("post_id", type_=Post.id.type)
)
_PLACE = tuple_(Post.published_at, Post.id)


def _walk(kind: str, *where: Any, order: Any, limit: Any) -> Any:
    # Each part is a subquery of its own: SQLite allows ORDER BY and LIMIT only on a
    # compound SELECT as a whole, not on its parts.
    part = select(*_COLUMNS).where(*where).order_by(*order).limit(limit).subquery(kind)
    return select(literal_column(f"'{kind}'", String).label("kind"), *part.c)


NEWEST_FIRST = (Post.published_at.desc(), Post.id.desc())
# The post's own place comes first in "previous": SQLite ranges the index on the first upper
# bound it meets, and with VISIBLE's `published_at <= now` first it walked every post from now
# down to this one (half the table for a post in the middle: ~0.1 s at a million posts).
RELATED = union_all(
    _walk("previous", _PLACE < _HERE, VISIBLE, order=NEWEST_FIRST, limit=1),
    _walk("next", VISIBLE, _PLACE > _HERE, order=(Post.published_at.asc(), Post.id.asc()), limit=1),
    _walk(
        "by_author",
        VISIBLE,
        Post.user_id == bindparam("user_id"),
        Post.id != bindparam("post_id"),
        order=NEWEST_FIRST,
        limit=bindparam("more"),
    ),
)


@dataclass(frozen=True, slots=True)
class Related:
    previous: Row | None = None  # the post published just before
    next: Row | None = None  # and just after
    by_author: list[Row] = field(default_factory=list)


def related_values(post: Row) -> dict[str, Any]:
    """RELATED's values for this post (fastblog.comments adds its comments to the statement)."""
    return {
        "post_id": post["id"],
        "user_id": post["user_id"],
        "published_at": post["published_at"],
        "now": utcnow(),
        "more": MORE_BY_AUTHOR,
    }


def related_of(rows: list[Row]) -> Related:
    """RELATED's rows, each with its `kind`, sorted out."""
    links: dict[str, list[Row]] = {"previous": [], "next": [], "by_author": []}
    for row in rows:
        links[row.pop("kind")].append(row)
    return Related(
        previous=next(iter(links["previous"]), None),
        next=next(iter(links["next"]), None),
        by_author=links["by_author"],
    )


async def fetch_related(db: Database, post: Row) -> Related:
    """The published post's neighbours in the reading order and more by its author."""
    return related_of(await db.fetch(RELATED, related_values(post)))
