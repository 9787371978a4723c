from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, computed_field
from pydantic_core import PydanticCustomError

from fastblog.media.store import picture_url
from fastblog.params import NO_NUL, LineFeeds, Trimmed

MAX_COMMENT_CHARS = 5_000


def _not_blank(text: str) -> str:
    if not text:
        raise PydanticCustomError("blank", "A comment needs some text, not only blanks")
    return text


# The limit applies to the text as sent, as for titles; the text is then trimmed, and a
# comment of blanks is refused.
Body = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_COMMENT_CHARS,
        pattern=NO_NUL,
        description="Markdown-lite: paragraphs, *emphasis*, **strong**, [links](https://…), "
        "`inline code`. Headings, images and HTML are shown as text.",
        examples=["Thanks, **this** helped. See also https://example.com"],
    ),
    LineFeeds,  # a before-validator: it runs before the Field's checks
    Trimmed,
    AfterValidator(_not_blank),
]


class CommentCreate(BaseModel):
    body: Body


class CommentAuthor(BaseModel):
    id: int
    username: str
    image_file: str | None = Field(exclude=True)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def image_path(self) -> str:
        return picture_url(self.image_file)


class CommentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    body: str = Field(description="The Markdown-lite source, as written (trimmed).")
    body_html: str = Field(description="The body rendered to sanitized HTML.")
    created_at: datetime
    author: CommentAuthor
    status: Literal["approved", "pending"] = Field(
        description="`pending`: waiting for an editor's approval, shown only to its writer "
        "and to editors, and counted nowhere."
    )


class CommentOnPost(CommentPublic):
    post_id: int


class PendingPage(BaseModel):
    comments: list[CommentOnPost] = Field(description="Oldest first.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class CommentPage(BaseModel):
    comments: list[CommentPublic] = Field(description="Oldest first.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


def page_of(comments: list[dict[str, Any]], next_cursor: str | None) -> dict[str, Any]:
    return {"comments": comments, "next_cursor": next_cursor}
