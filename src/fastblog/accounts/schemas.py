import re
from functools import cache
from importlib.resources import files
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

from fastblog.accounts.roles import Role
from fastblog.media.store import picture_url
from fastblog.params import NO_NUL, Trimmed, never_null

# ASCII letters, digits, "_", "-" and ".". Not letters of any script: a username is how
# readers tell authors apart, and "ada" spelled with a Cyrillic a looks the same as "ada".
# Refusing such look-alikes needs Unicode's confusables data (UTS #39 skeletons), compared
# against every existing name, not a character class; until then the rule is ASCII and the
# message says so. Surrounding blanks are trimmed (the pattern allows them, as the trimming does).
USERNAME = r"^[ \t\n\r\x0b\x0c]*[A-Za-z0-9_.-]+[ \t\n\r\x0b\x0c]*$"
USERNAME_RULE = (
    "A username can use only the unaccented letters a-z and A-Z, digits, and the characters "
    "_ - and . (no spaces)."
)


def _username(value: str) -> str:
    # A validator rather than `pattern`: pydantic's message would quote the regular expression.
    if not re.fullmatch(USERNAME, value):
        raise ValueError(USERNAME_RULE)
    return value


Username = Annotated[
    str,
    Field(
        min_length=1,
        max_length=50,
        examples=["corey"],
        json_schema_extra={"pattern": USERNAME},
        description=USERNAME_RULE,
    ),
    AfterValidator(_username),
    Trimmed,
]
Email = Annotated[EmailStr, Field(max_length=120, examples=["corey@example.com"])]


@cache
def common_passwords() -> frozenset[str]:
    """The 10,000 most common passwords (a data file of this package: its header says where
    the list comes from and its license), read once per process: ~1 MB, ~5 ms."""
    text = files("fastblog.accounts").joinpath("data/common-passwords.txt").read_text("utf-8")
    lines = text.splitlines()
    start = next(n for n, line in enumerate(lines) if not line.startswith("#"))
    return frozenset(lines[start:])


def _strong_enough(value: str) -> str:
    if not value.strip():
        raise ValueError("A password cannot be only blanks.")
    # Lower-cased, as the list is: "Password1" is as easily guessed as "password1".
    if value.lower() in common_passwords():
        raise ValueError(
            "This is one of the 10,000 most common passwords, which are tried first by "
            "anyone guessing: please choose another (a few unrelated words work well)."
        )
    return value


# For new passwords only: logging in with an old password that is now refused still works.
Password = Annotated[
    str,
    Field(
        min_length=8,
        max_length=128,
        pattern=NO_NUL,
        examples=["a long passphrase"],
        description="8-128 characters, not only blanks, not one of the 10,000 most common.",
        json_schema_extra={"format": "password"},
    ),
    AfterValidator(_strong_enough),
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
    notify_by_mail: bool | None = Field(
        None,
        description="A digest mail (at most one an hour) when someone comments on your "
        "posts or follows you.",
        examples=[True],
    )

    @field_validator("username", "email", "bio", "website", "notify_by_mail")
    @classmethod
    def not_null(cls, value: str | bool | None) -> str | bool:
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


ROLE_NAMES = ", ".join(role.value for role in Role)


def known_role(value: str) -> str:
    """A role's name, or a plain 422 naming the roles there are (the role change and the
    invitation check it alike)."""
    if value not in Role.__members__.values():
        raise PydanticCustomError(
            "unknown_role", "There is no such role: choose one of {roles}.", {"roles": ROLE_NAMES}
        )
    return value


RoleField = Annotated[
    str,
    Field(
        description="What the account may do: owner (one per site), admin, editor, author, "
        "contributor or reader.",
        examples=["author"],
    ),
]


class UserProfile(UserPublic, Profile):
    """A user's public profile, with counts kept as they change (never counted per view)."""

    role: RoleField
    followers: int = Field(description="How many users follow them.")
    following: int = Field(description="How many users they follow.")
    posts: int = Field(description="Their published posts (scheduled ones included).")
    followed_by_me: bool = Field(description="Whether you (the token's user) follow them.")


class FollowState(BaseModel):
    following: bool
    followers: int = Field(description="How many users follow them now.")


class UserPrivate(UserPublic, Profile):
    email: str
    role: RoleField
    notify_by_mail: bool = Field(
        description="Whether you get a digest mail when someone comments or follows you."
    )
    unread_notifications: int = Field(description="How many of your notifications are unread.")


class RoleChange(BaseModel):
    role: Annotated[
        str,
        Field(
            max_length=20,
            description=f"One of: {ROLE_NAMES}.",
            json_schema_extra={"enum": [role.value for role in Role]},
        ),
    ]

    _known_role = field_validator("role")(known_role)


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 (the OAuth2 token type, not a secret)


class ForgotPassword(BaseModel):
    email: EmailStr


RESET_TOKEN = r"^[A-Za-z0-9_-]+$"  # noqa: S105 (the shape of a token, not a secret)


def _reset_token(value: str) -> str:
    if not re.fullmatch(RESET_TOKEN, value):
        raise ValueError("This is not a reset link's token: copy the whole link from the mail.")
    return value


class ResetPassword(BaseModel):
    token: Annotated[
        str,
        Field(min_length=1, max_length=200, json_schema_extra={"pattern": RESET_TOKEN}),
        AfterValidator(_reset_token),
    ]
    new_password: Password


class Message(BaseModel):
    detail: str
