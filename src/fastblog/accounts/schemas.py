from typing import Annotated
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    computed_field,
    field_validator,
)
from pydantic_core import PydanticCustomError

from fastblog.media import picture_url
from fastblog.params import NO_NUL, Trimmed, never_null

# Letters, digits, "_", "-" and ".": every author can be named and linked. Surrounding blanks
# are trimmed (the pattern allows them, as the trimming does).
USERNAME = r"^[ \t\n\r\x0b\x0c]*[A-Za-z0-9_.-]+[ \t\n\r\x0b\x0c]*$"
Username = Annotated[
    str, Field(min_length=1, max_length=50, examples=["corey"], pattern=USERNAME), Trimmed
]
Email = Annotated[EmailStr, Field(max_length=120, examples=["corey@example.com"])]


Password = Annotated[
    str,
    Field(
        min_length=8,
        max_length=128,
        pattern=NO_NUL,
        examples=["a long passphrase"],
        json_schema_extra={"format": "password"},
    ),
]


MAX_BIO_CHARS = 500


def _website(value: str) -> str:
    """An http or https address with a host, or "" (no website)."""
    if not value:
        return value
    parts = urlsplit(value)
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        raise PydanticCustomError(
            "website", "A website address starts with http:// or https:// and names a site."
        )
    if any(char.isspace() or ord(char) < 32 for char in value):
        raise PydanticCustomError("website", "A website address has no spaces in it.")
    return value


# Markdown-lite, as comments (fastblog.markup); trimmed; "" clears it.
Bio = Annotated[
    str,
    Field(
        max_length=MAX_BIO_CHARS,
        pattern=NO_NUL,
        description="About you, up to 500 characters of Markdown-lite (as comments: "
        '*emphasis*, **strong**, [links](https://…), `code`); "" clears it.',
        examples=["Writes about **async Python**. Lives in Lyon."],
    ),
    Trimmed,
]
Website = Annotated[
    str,
    Field(
        max_length=200,
        description='Your site: an http:// or https:// address; "" clears it.',
        examples=["https://example.com"],
    ),
    Trimmed,
    AfterValidator(_website),
]


class Profile(BaseModel):
    """What an author shows of themselves (on their page and under each post)."""

    bio: str | None = Field(None, description="The Markdown-lite source, as written.")
    bio_html: str | None = Field(None, description="The bio rendered to sanitized HTML.")
    website: str | None = None


class UserCreate(BaseModel):
    username: Username
    email: Email
    password: Password


class PasswordChange(BaseModel):
    current_password: Annotated[
        str, Field(max_length=128, pattern=NO_NUL, json_schema_extra={"format": "password"})
    ]
    new_password: Password


class UserUpdate(BaseModel):
    """Only the fields sent are changed; an explicit null is refused."""

    model_config = ConfigDict(json_schema_extra=never_null)

    username: Username | None = None
    email: Email | None = None
    bio: Bio | None = None
    website: Website | None = None

    @field_validator("username", "email", "bio", "website")
    @classmethod
    def not_null(cls, value: str | None) -> str:
        if value is None:
            raise ValueError("may be left out, but not set to null")
        return value


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    image_file: str | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def image_path(self) -> str:
        return picture_url(self.image_file)


class UserProfile(UserPublic, Profile):
    """A user's public profile, with counts kept as they change (never counted per view)."""

    followers: int = Field(description="How many users follow them.")
    following: int = Field(description="How many users they follow.")
    posts: int = Field(description="Their published posts (scheduled ones included).")
    followed_by_me: bool = Field(description="Whether you (the token's user) follow them.")


class FollowState(BaseModel):
    following: bool
    followers: int = Field(description="How many users follow them now.")


class UserPrivate(UserPublic, Profile):
    email: str


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 (the OAuth2 token type, not a secret)


class ForgotPassword(BaseModel):
    email: EmailStr


class ResetPassword(BaseModel):
    token: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")
    new_password: Password


class Message(BaseModel):
    detail: str
