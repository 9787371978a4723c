"""A static page as the API takes and gives it; refusals name the field in plain words."""

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from fastblog.site.schemas import refuse

MAX_CONTENT_CHARS = 100_000
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
SLUG_CHARS = 80


def _title(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise refuse("A page needs a title.")
    title = " ".join(value.split())
    if len(title) > 100:
        raise refuse("A page's title is at most 100 characters.")
    return title


def _slug(value: Any) -> str:
    if not isinstance(value, str) or not SLUG.fullmatch(value) or len(value) > SLUG_CHARS:
        raise refuse(
            "A slug is lowercase letters, digits and single hyphens (at most 80), such as "
            "about or contact-us."
        )
    return value


def _content(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise refuse("A page needs some content, not only blanks.")
    content = value.replace("\r\n", "\n").replace("\r", "\n")
    if len(content) > MAX_CONTENT_CHARS:
        raise refuse(f"A page's content is at most {MAX_CONTENT_CHARS:,} characters.")
    return content


Title = Annotated[str, BeforeValidator(_title)]
Slug = Annotated[str, BeforeValidator(_slug)]
Content = Annotated[str, BeforeValidator(_content)]


class PageCreate(BaseModel):
    title: Title = Field(examples=["About"])
    slug: Slug = Field(description="Where the page is served: /{slug}.", examples=["about"])
    content: Content = Field(description="Markdown, as in posts.")


class PageUpdate(BaseModel):
    """What is left out stays as it is."""

    title: Annotated[str | None, BeforeValidator(_title)] = None
    slug: Annotated[str | None, BeforeValidator(_slug)] = None
    content: Annotated[str | None, BeforeValidator(_content)] = None

    @model_validator(mode="before")
    @classmethod
    def known_fields(cls, value: Any) -> Any:
        if isinstance(value, dict):
            unknown = sorted(set(value) - set(cls.model_fields))
            if unknown:
                raise refuse(f"A page has no field named {unknown[0]!r}.")
        return value


class PagePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    slug: str
    title: str
    content: str = Field(description="The Markdown source, as written.")
    content_html: str = Field(description="The content rendered to sanitized HTML.")
    url: str = Field(description="The page's address on the site.")
    created_at: datetime
    updated_at: datetime


class PageList(BaseModel):
    pages: list[PagePublic]
