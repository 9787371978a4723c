from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from fastblog.accounts.schemas import UserPublic
from fastblog.db import utcnow
from fastblog.messages import PICTURE_URL_PATTERN
from fastblog.pagination import Keyset
from fastblog.params import NOT_BLANK, LineFeeds, NoBidiControls, Trimmed, never_null_but
from fastblog.posts.markdown import (
    MAX_TAG_CHARS,
    MAX_TAGS,
    TAG_RULE,
    InvalidTagError,
    normalize_tags,
)

MAX_CONTENT_CHARS = 100_000
NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL; refuse it as bad input.


def _title_left(value: str) -> str:
    if not value:  # only bidi controls and blanks
        raise ValueError("A title needs some visible text.")
    return value


# Trimmed; a title of blanks is refused (it would make a post with no link to it). Bidi
# controls are dropped (fastblog.params.BIDI_CONTROLS).
Title = Annotated[
    str,
    Field(min_length=1, max_length=100, pattern=NOT_BLANK, examples=["Why async pays off"]),
    NoBidiControls,
    Trimmed,
    AfterValidator(_title_left),
]
Content = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_CONTENT_CHARS,
        pattern=NO_NUL,
        description="Markdown (CommonMark, with GitHub's tables, strikethrough and autolinks).",
        examples=["When a request **waits** on I/O..."],
    ),
    LineFeeds,  # a before-validator: it runs before the Field's checks
]
Status = Annotated[
    Literal["draft", "review", "published"],
    Field(
        description="A draft is seen by its author (and editors) only; a post in review "
        "waits for an editor to publish it.",
        examples=["published"],
    ),
]
# As the API shows a post: "scheduled" is a published post whose published_at is still to
# come (stored as published: it goes live by the clock, with no write at that moment).
PublicStatus = Annotated[
    Literal["draft", "review", "scheduled", "published"],
    Field(
        description="draft: seen by its author (and editors) only; review: submitted for an "
        "editor to publish, seen by its author and editors; scheduled: published with a future "
        "published_at, seen by its author only until then; published: seen by everyone.",
        examples=["published"],
    ),
]
Tags = Annotated[
    # Bounded before normalizing (each tag is trimmed, so it may arrive a little longer).
    list[Annotated[str, Field(max_length=4 * MAX_TAG_CHARS)]],
    Field(
        max_length=MAX_TAGS,
        description=f"Up to {MAX_TAGS} tags: {TAG_RULE}.",
        examples=[["python", "async"]],
    ),
]
PublishedAt = Annotated[
    AwareDatetime,
    Field(
        description="When readers may see it (in the future: scheduled). Default: now. "
        "Sending it with no status publishes the post.",
        examples=["2026-12-24T09:00:00Z"],
    ),
]


# A blog post dated before the Unix epoch or after 2100 is a typo (a year 20266, 0206).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2101, 1, 1, tzinfo=UTC)


def _at_most_five(value: Any) -> Any:
    # Before the list's own max_length check: a plain message, as for any other bad tag.
    # Blank tags are left out first (a form's "python, , web," has two tags).
    if isinstance(value, list):
        value = [tag for tag in value if not (isinstance(tag, str) and not tag.strip())]
        if len(value) > MAX_TAGS:
            raise ValueError(f"A post has at most {MAX_TAGS} tags.")
    return value


def _tags(value: list[str] | None) -> list[str] | None:
    if value is None:
        return None
    try:
        return normalize_tags(value)
    except InvalidTagError as exc:
        raise ValueError(str(exc)) from exc


def _published_at(value: datetime | None, info: ValidationInfo) -> datetime | None:
    if value is None:
        return None
    if info.data.get("status") in ("draft", "review"):
        raise ValueError("A draft has no publication date: leave published_at out.")
    try:
        moment = value.astimezone(UTC)
    except OverflowError:  # a moment before the year 1 (or after 9999) in UTC
        moment = None
    if moment is None or not EARLIEST <= moment < LATEST:
        raise ValueError("The publication date must be between 1970 and 2100.")
    return moment


class PostBase(BaseModel):
    title: Title
    content: Content


CommentsEnabled = Annotated[
    bool,
    Field(
        description="Whether the post takes new comments (the site's comment setting can "
        "close them everywhere); its comments stay shown either way.",
        examples=[True],
    ),
]


FeatureImage = Annotated[
    str,
    Field(
        max_length=300,
        pattern=PICTURE_URL_PATTERN,
        description="The URL of a picture uploaded here (POST /api/media), shown at the top "
        "of the post, on list cards and on share cards; null or left out: none.",
        examples=["/media/pictures/4f1c2a9b7d3e5f60a1b2.jpg"],
    ),
]
FeatureImageAlt = Annotated[
    str,
    Field(
        max_length=500,
        pattern=NO_NUL,
        description="What the feature image shows, for readers who cannot see it.",
        examples=["A harbour at dawn"],
    ),
    Trimmed,
]
SendNewsletter = Annotated[
    bool | None,
    Field(
        description="Whether the post is also mailed to the site's and its author's "
        "subscribers when it becomes visible (now, or when a scheduled post comes due); "
        "null: the site's `newsletter_default`. Once the mails have started, nothing changes "
        "them; edits send nothing.",
        examples=[True],
    ),
]


class PostWrite(PostBase):
    tags: Tags = []
    status: Status = "published"
    published_at: PublishedAt | None = None
    comments_enabled: CommentsEnabled = True
    feature_image: FeatureImage | None = None
    feature_image_alt: FeatureImageAlt | None = None
    send_newsletter: SendNewsletter = None

    _five_tags = field_validator("tags", mode="before")(_at_most_five)
    _normal_tags = field_validator("tags")(_tags)
    _checked_published_at = field_validator("published_at")(_published_at)


class PostCreate(PostWrite):
    """The author is the logged-in user; a `user_id` in the body is ignored."""


class PostReplace(PostWrite):
    """PUT: title and content are required; tags, status and published_at take their
    defaults when left out (no tags, published, at the time it was first published or now)."""


class PostUpdate(BaseModel):
    """PATCH: only the fields sent are changed; an explicit null is refused."""

    model_config = ConfigDict(
        json_schema_extra=never_null_but("feature_image", "feature_image_alt", "send_newsletter")
    )

    title: Title | None = None
    content: Content | None = None
    tags: Tags | None = None
    status: Status | None = None
    published_at: PublishedAt | None = None
    comments_enabled: CommentsEnabled | None = None
    # null takes the feature image away.
    feature_image: FeatureImage | None = None
    feature_image_alt: FeatureImageAlt | None = None
    send_newsletter: SendNewsletter = None

    @field_validator(
        "title", "content", "tags", "status", "published_at", "comments_enabled", mode="before"
    )
    @classmethod
    def not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may be left out, but not set to null")
        return value

    _five_tags = field_validator("tags", mode="before")(_at_most_five)
    _normal_tags = field_validator("tags")(_tags)
    _checked_published_at = field_validator("published_at")(_published_at)


class PostSummary(BaseModel):
    """A post as a list shows it: everything but its content (`?content=true` adds it)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    slug: str = Field(description="The last part of the post's page: /posts/{id}/{slug}.")
    excerpt: str = Field(description="The first paragraph or ~300 characters of plain text.")
    tags: list[str]
    status: PublicStatus
    published_at: datetime | None = Field(description="None for a draft.")
    updated_at: datetime = Field(description="When the title or content last changed.")
    user_id: int
    date_posted: datetime = Field(description="When the post was first written.")
    comments: int = Field(description="How many approved comments it has.")
    comments_enabled: CommentsEnabled
    feature_image: str | None = Field(None, description="The feature image's URL, if any.")
    feature_image_alt: str | None = None
    author: UserPublic
    likes: int = Field(0, description="How many readers like it.")
    liked: bool = Field(False, description="Whether you (the token's user) like it.")

    @model_validator(mode="after")
    def scheduled(self) -> Self:
        if self.status == "published" and self.published_at and self.published_at > utcnow():
            self.status = "scheduled"
        return self


class PostPublic(PostSummary):
    """A post with its content: one post, and lists asked `?content=true`."""

    content: str = Field(description="The Markdown source, as written.")
    content_html: str = Field(description="The content rendered to sanitized HTML.")


def with_content_or_summary(full: type[BaseModel]) -> Discriminator:
    """Tells a list of posts with content (`?content=true`, tagged "with content") from one
    without ("summary") by its first post, rather than by trying both: a plain union validated
    a page without content twice (as `full` first, which fails on every post, then as the
    summary). An empty list is a summary."""

    def which(posts: Any) -> str:
        first = posts[0] if isinstance(posts, list) and posts else None
        if isinstance(first, full) or (isinstance(first, dict) and "content" in first):
            return "with content"
        return "summary"

    return Discriminator(which)


Posts = Annotated[
    Annotated[list[PostPublic], Tag("with content")] | Annotated[list[PostSummary], Tag("summary")],
    with_content_or_summary(PostPublic),
]


def documented_as_any_of(schema: dict[str, Any]) -> None:
    """A page's tagged union of two lists is documented as oneOf, which an empty page would
    break (it is both): anyOf, as the plain union was."""
    schema["anyOf"] = schema.pop("oneOf")


class PostPage(BaseModel):
    posts: Posts = Field(json_schema_extra=documented_as_any_of)
    total: int = Field(description="How many posts the whole list holds.")
    skip: int
    limit: int
    has_more: bool
    next_cursor: str | None = Field(
        description="Where the next page starts: send it back as `?cursor=` (opaque; it stays "
        "valid as posts are added). Null on the last page."
    )


class FeedPage(BaseModel):
    posts: list[PostPublic]
    limit: int
    has_more: bool
    next_cursor: str | None = Field(
        description="Pass as ?cursor= for the next page; null on the last."
    )


class LikeState(BaseModel):
    liked: bool
    likes: int = Field(description="How many readers like the post now.")


class TagCount(BaseModel):
    name: str
    posts: int = Field(description="How many published posts carry it.")


class TagList(BaseModel):
    tags: list[TagCount]


def page_of(
    posts: Sequence[dict[str, Any]],
    *,
    total: int,
    skip: int,
    limit: int,
    older: Keyset | None,
) -> dict[str, Any]:
    """A page of posts with what a client needs to fetch the next: PostPage's fields
    (fastblog.posts.responses writes it as PostPage would)."""
    return {
        "posts": posts,
        "total": total,
        "skip": skip,
        "limit": limit,
        "has_more": older is not None,
        "next_cursor": older.encode() if older else None,
    }
