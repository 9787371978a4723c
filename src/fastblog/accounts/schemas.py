from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, computed_field, field_validator
from pydantic_core import PydanticCustomError

from fastblog.accounts.roles import Role
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

    @field_validator("username", "email")
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


ROLE_NAMES = ", ".join(role.value for role in Role)
RoleField = Annotated[
    str,
    Field(
        description="What the account may do: owner (one per site), admin, editor, author, "
        "contributor or reader.",
        examples=["author"],
    ),
]


class UserProfile(UserPublic):
    """A user's public profile, with counts kept as they change (never counted per view)."""

    role: RoleField
    followers: int = Field(description="How many users follow them.")
    following: int = Field(description="How many users they follow.")
    posts: int = Field(description="Their published posts (scheduled ones included).")
    followed_by_me: bool = Field(description="Whether you (the token's user) follow them.")


class FollowState(BaseModel):
    following: bool
    followers: int = Field(description="How many users follow them now.")


class UserPrivate(UserPublic):
    email: str
    role: RoleField


class RoleChange(BaseModel):
    role: Annotated[
        str,
        Field(
            max_length=20,
            description=f"One of: {ROLE_NAMES}.",
            json_schema_extra={"enum": [role.value for role in Role]},
        ),
    ]

    @field_validator("role")
    @classmethod
    def known_role(cls, value: str) -> str:
        if value not in Role.__members__.values():
            raise PydanticCustomError(
                "unknown_role",
                "There is no such role: choose one of {roles}.",
                {"roles": ROLE_NAMES},
            )
        return value


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
