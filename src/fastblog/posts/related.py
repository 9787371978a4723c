"""What a post page links to besides the post: the previous and next post on the site and a few
more by the same author, in one compiled statement (three index walks joined by UNION ALL).

Each walk starts from the post's own place in an index (`ix_posts_date_posted_id`, and
`ix_posts_user_id_date_posted_id` for the author's), so the cost does not grow with the blog.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import String, bindparam, literal_column, select, tuple_, union_all

from fastblog.db import Database, Row, UTCDateTime
from fastblog.posts.models import Post

MORE_BY_AUTHOR = 4

_COLUMNS = (Post.id, Post.title, Post.date_posted)
# Where the post sits in the newest-first order; the route already has these values.
_HERE = tuple_(
    bindparam("date_posted", type_=UTCDateTime()), bindparam("post_id", type_=Post.id.type)
)
_PLACE = tuple_(Post.date_posted, Post.id)


def _walk(kind: str, *where: Any, order: Any, limit: Any) -> Any:
    # Each part is a subquery of its own: SQLite allows ORDER BY and LIMIT only on a
    # compound SELECT as a whole, not on its parts.
    part = select(*_COLUMNS).where(*where).order_by(*order).limit(limit).subquery(kind)
    return select(literal_column(f"'{kind}'", String).label("kind"), *part.c)


# merge: the published filter (status/published_at <= now) goes into each walk's WHERE, and
# the order switches to published_at if that becomes the reading order.
RELATED = union_all(
    _walk("previous", _PLACE < _HERE, order=(Post.date_posted.desc(), Post.id.desc()), limit=1),
    _walk("next", _PLACE > _HERE, order=(Post.date_posted.asc(), Post.id.asc()), limit=1),
    _walk(
        "by_author",
        Post.user_id == bindparam("user_id"),
        Post.id != bindparam("post_id"),
        order=(Post.date_posted.desc(), Post.id.desc()),
        limit=bindparam("more"),
    ),
)


@dataclass(frozen=True, slots=True)
class Related:
    previous: Row | None = None  # the post published just before
    next: Row | None = None  # and just after
    by_author: list[Row] = field(default_factory=list)


async def fetch_related(
    db: Database, *, post_id: int, user_id: int, date_posted: datetime
) -> Related:
    values = {
        "post_id": post_id,
        "user_id": user_id,
        "date_posted": date_posted,
        "more": MORE_BY_AUTHOR,
    }
    rows = await db.fetch(RELATED, values)
    links: dict[str, list[Row]] = {"previous": [], "next": [], "by_author": []}
    for row in rows:
        links[row.pop("kind")].append(row)
    return Related(
        previous=next(iter(links["previous"]), None),
        next=next(iter(links["next"]), None),
        by_author=links["by_author"],
    )
