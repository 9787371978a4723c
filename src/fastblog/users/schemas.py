from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, computed_field, field_validator

from fastblog.params import NO_NUL, never_null

DEFAULT_AVATAR_PATH = "/static/img/default-avatar.png"
MEDIA_URL_PREFIX = "/media"

Username = Annotated[
    str, Field(min_length=1, max_length=50, examples=["corey"], pattern=r"^[^\x00]+$")
]
Email = Annotated[EmailStr, Field(max_length=120, examples=["corey@example.com"])]


def picture_url(image_file: str | None) -> str:
    if image_file is None:
        return DEFAULT_AVATAR_PATH
    return f"{MEDIA_URL_PREFIX}/profile_pics/{image_file}"


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


class UserPrivate(UserPublic):
    email: str
