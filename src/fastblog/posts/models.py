from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fastblog.accounts.models import User
from fastblog.db import Base, BigId, UTCDateTime, utcnow
from fastblog.posts.markdown import Rendered, render, slug_of
from fastblog.site.models import JSONText

DRAFT = "draft"
PUBLISHED = "published"
# Not a stored status: a draft with submitted_at set (see Post.submitted_at).
REVIEW = "review"


# A post whose becoming visible is still to be announced (fastblog.posts.visibility), written
# once for the partial index below and for the statements that must be served by it: SQLite
# uses a partial index only for a statement whose WHERE holds the index's own term, and
# SQLAlchemy writes `.is_(True)` as `announce_pending IS 1`, which SQLite does not take for
# it. The watcher's look then walked every post published up to now (~1 s at a million posts,
# every poll, holding one of the two reader connections and the readers' batch on it).
ANNOUNCE_PENDING = text("announce_pending")


def _row(context: DefaultExecutionContext) -> dict[str, Any]:
    values: dict[str, Any] = context.get_current_parameters()  # type: ignore[no-untyped-call]
    return values


# Column defaults for posts made outside the app's write path (tests, scripts): the app
# renders (off the event loop when large) and passes every value itself.
def _rendered(context: DefaultExecutionContext) -> str:
    return _render_row(context).html


def _excerpt(context: DefaultExecutionContext) -> str:
    return _render_row(context).excerpt


def _text(context: DefaultExecutionContext) -> str:
    return _render_row(context).text


def _render_row(context: DefaultExecutionContext) -> Rendered:
    return _render_once(_row(context)["content"])


# The three defaults above ask for the same row's rendering one after another: rendered once,
# not three times (a factory-made post of a few kilobytes took ~3 ms a render, most of the
# suite's Markdown work). Keyed by the source alone: these defaults render without pictures.
@lru_cache(maxsize=8)
def _render_once(content: str) -> Rendered:
    return render(content)


def _slug(context: DefaultExecutionContext) -> str:
    return slug_of(_row(context)["title"])


def _written_at(context: DefaultExecutionContext) -> datetime:
    written: datetime | None = _row(context).get("date_posted")
    return written or utcnow()


def _published_at(context: DefaultExecutionContext) -> datetime | None:
    if _row(context).get("status") == DRAFT:
        return None
    return _written_at(context)


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (
        # What readers see, newest first: published_at <= now ORDER BY published_at DESC,
        # id DESC walks this index backwards from now (drafts have no published_at).
        Index("ix_posts_published_at_id", "published_at", "id"),
        # A user's posts, newest first; also serves the foreign key's lookups.
        Index("ix_posts_user_id_published_at_id", "user_id", "published_at", "id"),
        CheckConstraint(
            f"(status = '{DRAFT}' AND published_at IS NULL)"
            f" OR (status = '{PUBLISHED}' AND published_at IS NOT NULL)",
            name="status_published_at",
        ),
        # The posts whose becoming visible is still to be announced (fastblog.posts.visibility),
        # by when they become visible: a handful of rows whatever the size of the table.
        Index(
            "ix_posts_announce_pending",
            "published_at",
            sqlite_where=ANNOUNCE_PENDING,
            postgresql_where=ANNOUNCE_PENDING,
        ),
        # Ids only grow on SQLite too: a link to a deleted post never shows another one.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    slug: Mapped[str] = mapped_column(String(100), default=_slug)
    # When it was written; named date_posted (not *_at) to keep the course's API field name.
    date_posted: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The Markdown source, as written; content_html is it rendered and sanitized, once, when
    # the post is written (never on a read); excerpt is the start of its text.
    content: Mapped[str] = mapped_column(Text)
    content_html: Mapped[str] = mapped_column(Text, default=_rendered)
    excerpt: Mapped[str] = mapped_column(Text, default=_excerpt)
    # What search indexes (fastblog.search), beside the title: the content's text without
    # Markdown syntax (written with content_html), and the post's tags, space-separated,
    # kept by triggers on post_tags. Never read through the ORM: deferred, and loading them
    # by accident raises.
    body_text: Mapped[str] = mapped_column(
        Text, default=_text, server_default="", deferred=True, deferred_raiseload=True
    )
    tag_names: Mapped[str] = mapped_column(
        Text, server_default="", deferred=True, deferred_raiseload=True
    )
    status: Mapped[str] = mapped_column(String(10), default=PUBLISHED)
    # When readers may see it (may be in the future: scheduled); None for a draft.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=_published_at)
    # When the title or content last changed ("edited" once that is after published_at).
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_written_at)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    # When a contributor (or anyone) submitted the draft for review; None otherwise. A post in
    # review is stored as a draft with this set (the API says "status": "review"): every
    # reader-facing query already shows published posts only, so a post in review is
    # invisible to readers by construction, and SQLite's CHECK on status needs no table
    # rebuild (which would drop the posts' triggers).
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # How many comments it has, kept by triggers on the comments table (migration 0010) in
    # the transaction that writes or deletes a comment, however it is deleted (a user's
    # cascade too): a page of posts reads the count, never counts rows.
    comments: Mapped[int] = mapped_column(Integer, server_default="0")
    # How many readers like it: kept by triggers on post_likes (migration 0011) in the
    # like's own transaction, so a page of posts shows it without counting rows. No Python
    # default: the one-statement INSERT … SELECT (fastblog.posts.queries) leaves it out.
    like_count: Mapped[int] = mapped_column(BigInteger, server_default="0")
    # Whether it takes new comments (its author's choice; the site's `comments` setting can
    # close them everywhere). Existing comments stay shown either way.
    comments_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # A picture uploaded here (its /media URL) shown at the top of the post and on list cards.
    feature_image: Mapped[str | None] = mapped_column(String(300), default=None)
    feature_image_alt: Mapped[str | None] = mapped_column(String(500), default=None)
    # The post's share picture, worked out when it is written (fastblog.posts.service): the
    # feature image's, else the content's first uploaded picture's {"url", "width", "height",
    # "alt", "srcset": [[url, width], ...], "feature": bool}; None without either.
    picture: Mapped[dict[str, Any] | None] = mapped_column(JSONText, default=None)
    # Whether the post is also mailed to subscribers when it becomes visible: its author's
    # choice at publish time (fastblog.newsletter acts on it; posts only keep it).
    send_newsletter: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Set when the app publishes or schedules the post, cleared once its becoming visible has
    # been announced (fastblog.posts.visibility). Posts written outside the app (the seed,
    # imports) are never announced, so they mail nobody.
    announce_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    # lazy="raise": reading post.author without eager loading fails loudly in tests instead
    # of attempting hidden I/O (MissingGreenlet in async code).
    author: Mapped[User] = relationship(lazy="raise")


class Tag(Base):
    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(30))


class PostTag(Base):
    __tablename__ = "post_tags"
    __table_args__ = (
        # Whether a post has a tag (the ?tag= filter on a user's posts, search); the primary
        # key serves a post's tags.
        Index("ix_post_tags_tag_id_post_id", "tag_id", "post_id"),
        # A tag's page, newest first: an index range from the cursor, like the home page's.
        Index("ix_post_tags_tag_id_published_at_post_id", "tag_id", "published_at", "post_id"),
        # A user's posts with a tag, newest first: an index range too (migration 0023).
        Index(
            "ix_post_tags_user_id_tag_id_published_at_post_id",
            "user_id",
            "tag_id",
            "published_at",
            "post_id",
        ),
    )

    post_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True
    )
    # The post's published_at, copied by triggers (migration 0008) when the row is inserted
    # without it and whenever the post's changes, so a tag's page needs no sort of its posts.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The post's author, copied by a trigger (migration 0023) when the row is inserted without
    # it (a post never changes author). No foreign key: the post's own cascades.
    user_id: Mapped[int | None] = mapped_column(BigId, default=None)


class PostLike(Base):
    """A reader likes a post (once: the primary key)."""

    __tablename__ = "post_likes"
    __table_args__ = (
        # A user's likes: "liked by me" on a page, and the cascade when the user is deleted.
        Index("ix_post_likes_user_id_post_id", "user_id", "post_id"),
    )

    post_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PostCount(Base):
    """How many published posts there are, kept by database triggers (migrations 0005 and
    0006), so a page of posts does not count the whole table on every request (on PostgreSQL
    that count was ~1 ms of server CPU per page). Spread over a few slots (post id modulo
    COUNT_SLOTS) so concurrent inserts do not queue on one row; the total is the sum of the
    slots, less the (few) scheduled posts whose time has not come."""

    __tablename__ = "post_counts"

    slot: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    posts: Mapped[int] = mapped_column(BigInteger)


COUNT_SLOTS = 8


class UserPostCount(Base):
    """How many published posts each user has, kept by database triggers (migration 0008) in
    the post's transaction, so a user's page does not count their posts on every view. Spread
    over COUNT_SLOTS rows per user like PostCount: one writer posting from many connections
    does not queue on one row. No foreign key: a deleted user's rows are left at zero (ids
    are never reused), which spares the cascade an ordering problem between triggers."""

    __tablename__ = "user_post_counts"

    user_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    posts: Mapped[int] = mapped_column(BigInteger)


class TagPostCount(Base):
    """How many published posts carry each tag, kept by triggers (migration 0008) through
    tagging, untagging, publishing, taking back to draft and deleting, in COUNT_SLOTS rows
    per tag (a popular tag is on many concurrent writes)."""

    __tablename__ = "tag_post_counts"

    tag_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    posts: Mapped[int] = mapped_column(BigInteger)


class TagCountVersion(Base):
    """How many times the tag list's inputs have changed: tag_post_counts (any row written)
    and post_tags' copies of published_at, counted by triggers (migration 0029) in the
    writing transaction. The version is the sum of the COUNT_SLOTS rows and only ever grows,
    so a process that kept GET /api/tags' answer knows, from one read of eight rows, whether
    any worker on any host has changed what it says since (fastblog.posts.tag_list_cache)."""

    __tablename__ = "tag_count_versions"

    slot: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    changes: Mapped[int] = mapped_column(BigInteger)


class PageVersion(Base):
    """How many times anything a public page shows has changed: triggers on every table whose
    rows a page shows to a reader who is not logged in (posts, tags, users, comments, the
    site's settings ...: migration 0031) count each writing transaction. Like
    TagCountVersion, the version is the sum of the COUNT_SLOTS rows and only ever grows: a
    process that kept a page's HTML (fastblog.posts.page_store) knows from one read of eight
    rows whether any worker on any host has changed what the page could show since."""

    __tablename__ = "page_versions"

    slot: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    changes: Mapped[int] = mapped_column(BigInteger)


class ScheduledPostCount(Base):
    """For each UTC day, how many published posts with that day's published_at were in the
    future when last written, kept by triggers on posts (migration 0030).

    Why: a list's total is PostCount (published posts) less the published posts whose time
    has not come. Counting those on every list was an index range over every scheduled post
    (~3,000 at a million posts: on PostgreSQL ~0.5 ms of server CPU per list, its
    visibility-map checks). With this table a list reads one row per future day and counts,
    by the index, only today's posts still ahead (fastblog.posts.queries.SCHEDULED).

    The rule: every INSERT, UPDATE or DELETE of a post adds 1 on the new row's day if its
    published_at is after now (the database's clock at the write) and takes 1 off the old
    row's day if its published_at was. Why a day after today is exact: each post of that day
    had its published_at after now at every write so far (now has not reached the day yet),
    so every write counted it out of its old state and into its new one. A day already past
    may be off (a post whose time came between two writes was counted in, never out); its
    row is never read again (a harmless leftover, one per day that had scheduled posts).

    A post published now, and every write to a post already out, touches no row here."""

    __tablename__ = "scheduled_post_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    posts: Mapped[int] = mapped_column(BigInteger)


class ScheduledTagPostCount(Base):
    """ScheduledPostCount for each tag: by tag and UTC day, kept by triggers on post_tags
    and its copy of the post's published_at (migration 0030), for a tag's total."""

    __tablename__ = "scheduled_tag_post_counts"

    tag_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    posts: Mapped[int] = mapped_column(BigInteger)


class UserTagPostCount(Base):
    """How many published posts of a user carry each tag, kept by triggers on post_tags
    (migration 0023), in COUNT_SLOTS rows per user and tag, like TagPostCount: the total of
    a user's posts filtered by a tag, without counting them."""

    __tablename__ = "user_tag_post_counts"

    user_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    tag_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    posts: Mapped[int] = mapped_column(BigInteger)
