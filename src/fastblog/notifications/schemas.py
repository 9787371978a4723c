from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, computed_field

from fastblog.media.store import picture_url
from fastblog.params import MAX_ID


class Actor(BaseModel):
    id: int
    username: str
    image_file: str | None = Field(exclude=True)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def image_path(self) -> str:
        return picture_url(self.image_file)


class NotifiedPost(BaseModel):
    id: int
    title: str
    slug: str


class NotifiedComment(BaseModel):
    id: int
    excerpt: str = Field(description="The comment's first 200 characters, as written.")


class NotificationPublic(BaseModel):
    id: int
    kind: Literal["comment", "follow", "like"] = Field(
        description="`comment`: on your post (once approved); `follow`: of you; `like`: of "
        "your post."
    )
    created_at: datetime
    read: bool
    actor: Actor = Field(description="Who commented, followed or liked.")
    post: NotifiedPost | None = Field(description="The post (comments and likes).")
    comment: NotifiedComment | None = Field(description="The comment (comments only).")


class NotificationPage(BaseModel):
    notifications: list[NotificationPublic] = Field(description="Newest first.")
    unread: int = Field(description="How many of all your notifications are unread.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class MarkRead(BaseModel):
    up_to: int | None = Field(
        None,
        ge=1,
        le=MAX_ID,
        description="Mark read the notifications up to this id (the newest you were shown); "
        "leave it out to mark all of them.",
    )


class Unread(BaseModel):
    unread: int = Field(description="How many of your notifications are unread now.")


def page_of(
    notifications: list[dict[str, Any]], unread: int, next_cursor: str | None
) -> dict[str, Any]:
    return {"notifications": notifications, "unread": unread, "next_cursor": next_cursor}
