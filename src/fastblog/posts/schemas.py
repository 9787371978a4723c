from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fastblog.accounts.schemas import UserPublic
from fastblog.params import NOT_BLANK, Trimmed, never_null

NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL; refuse it as bad input.
# Trimmed; a title of blanks is refused (it would make a post with no link to it).
Title = Annotated[
    str,
    Field(min_length=1, max_length=100, pattern=NOT_BLANK, examples=["Why async pays off"]),
    Trimmed,
]
Content = Annotated[
    str,
    Field(
        min_length=1,
        max_length=100_000,
        pattern=NO_NUL,
        examples=["When a request waits on I/O..."],
    ),
]


class PostBase(BaseModel):
    title: Title
    content: Content


class PostCreate(PostBase):
    """The author is the logged-in user; a `user_id` in the body is ignored."""


class PostReplace(PostBase):
    """PUT: every field is required."""


class PostUpdate(BaseModel):
    """PATCH: only the fields sent are changed; an explicit null is refused."""

    model_config = ConfigDict(json_schema_extra=never_null)

    title: Title | None = None
    content: Content | None = None

    @field_validator("title", "content")
    @classmethod
    def not_null(cls, value: str | None) -> str:
        if value is None:
            raise ValueError("may be left out, but not set to null")
        return value


class PostPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    content: str
    user_id: int
    date_posted: datetime
    author: UserPublic


class PostPage(BaseModel):
    posts: list[PostPublic]
    total: int
    skip: int
    limit: int
    has_more: bool


def page_of(
    posts: Sequence[dict[str, Any]], *, total: int, skip: int, limit: int
) -> dict[str, Any]:
    """A page of posts (as fastblog.posts.queries returns them) with the numbers a client
    needs to fetch the next; the route's response model validates it, once."""
    return {
        "posts": posts,
        "total": total,
        "skip": skip,
        "limit": limit,
        "has_more": skip + len(posts) < total,
    }
