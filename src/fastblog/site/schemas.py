"""The settings as the API shows them, and the checks on a change: every refusal names the
field and says in plain words what is allowed."""

import re
import unicodedata
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from fastblog.config import Settings, is_time_zone

REGISTRATION: Final = ("open", "invite", "closed")
COMMENTS: Final = ("open", "approve_first", "approve_all", "closed")
# What a new account may start as: never an admin or the owner (an open sign-up would hand
# out the site). The names are fastblog.accounts.roles.Role's, which sits a layer above.
NEW_ACCOUNT_ROLES: Final = ("reader", "contributor", "author", "editor")
MAX_NAVIGATION_LINKS = 12

Registration = Literal["open", "invite", "closed"]
CommentsMode = Literal["open", "approve_first", "approve_all", "closed"]
NewAccountRole = Literal["reader", "contributor", "author", "editor"]


def refuse(message: str) -> PydanticCustomError:
    return PydanticCustomError("invalid", message)


def _text(value: Any, *, what: str, limit: int, required: bool) -> str:
    if not isinstance(value, str):
        raise refuse(f"{what} must be text.")
    # Line ends stored as \n; control characters (bidi overrides, NUL) have no place in a
    # heading or a footer.
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    text = "".join(c for c in text if c == "\n" or unicodedata.category(c) not in {"Cc", "Cf"})
    if required and not text:
        raise refuse(f"{what} needs some text.")
    if len(text) > limit:
        raise refuse(f"{what} is at most {limit:,} characters.")
    return text


def _title(value: Any) -> str:
    return _text(value, what="The title", limit=100, required=True).replace("\n", " ")


def _description(value: Any) -> str:
    return _text(value, what="The description", limit=300, required=False).replace("\n", " ")


def _footer(value: Any) -> str:
    return _text(value, what="The footer", limit=500, required=False)


def _label(value: Any) -> str:
    return _text(value, what="A link's label", limit=40, required=True).replace("\n", " ")


# A path on this site (/about, /tags/python) or an http(s) address elsewhere: never
# javascript: or a protocol-relative //host, which would leave the site unannounced.
_LOCAL_PATH = re.compile(r"/(?![/\\])[^\s]*")
_WEB_ADDRESS = re.compile(r"https?://[^\s/?#]+[^\s]*", re.IGNORECASE)


def _url(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise refuse("A link needs an address: a path such as /about, or https://...")
    url = value.strip()
    if len(url) > 300:
        raise refuse("A link's address is at most 300 characters.")
    if not (_LOCAL_PATH.fullmatch(url) or _WEB_ADDRESS.fullmatch(url)):
        raise refuse("A link goes to a path on this site (/about) or to an http or https address.")
    return url


def _share_image(value: Any) -> str:
    if not isinstance(value, str):
        raise refuse("The share image is an address: a path such as /media/..., or https://...")
    url = value.strip()
    if not url:
        return ""
    if len(url) > 300:
        raise refuse("The share image's address is at most 300 characters.")
    if not (_LOCAL_PATH.fullmatch(url) or re.fullmatch(r"https://[^\s/?#]+[^\s]*", url)):
        raise refuse("The share image is a path on this site (/media/...) or an https address.")
    return url


def _one_of(choices: tuple[str, ...], what: str) -> Any:
    def check(value: Any) -> str:
        if value not in choices:
            names = ", ".join(choices[:-1]) + " or " + choices[-1]
            raise refuse(f"{what} is one of: {names}.")
        return str(value)

    return check


def _timezone(value: Any) -> str:
    if not isinstance(value, str) or not is_time_zone(value.strip()):
        raise refuse("The time zone is a name such as Europe/Paris, America/New_York or UTC.")
    return value.strip()


def _posts_per_page(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
        raise refuse("Posts per page is a whole number from 1 to 100.")
    return value


def _navigation(value: Any) -> Any:
    if not isinstance(value, list):
        raise refuse("The navigation is a list of links, each with a label and a url.")
    if len(value) > MAX_NAVIGATION_LINKS:
        raise refuse(f"The navigation holds at most {MAX_NAVIGATION_LINKS} links.")
    return value


def _link(value: Any) -> Any:
    if not isinstance(value, dict):
        raise refuse("A link has a label and a url.")
    return value


class NavLink(BaseModel):
    model_config = ConfigDict(frozen=True)

    label: Annotated[str, BeforeValidator(_label)] = Field(examples=["About"])
    url: Annotated[str, BeforeValidator(_url)] = Field(examples=["/about"])


NavLinkIn = Annotated[NavLink, BeforeValidator(_link)]

# `X | None` inside: a field left out stays None (unchanged), and the check runs on an
# explicit null too, which it refuses in plain words like any other wrong value.
Title = Annotated[str | None, BeforeValidator(_title)]
Description = Annotated[str | None, BeforeValidator(_description)]
Footer = Annotated[str | None, BeforeValidator(_footer)]
Navigation = Annotated[list[NavLinkIn] | None, BeforeValidator(_navigation)]
RegistrationIn = Annotated[
    Registration | None, BeforeValidator(_one_of(REGISTRATION, "Registration"))
]
NewAccountRoleIn = Annotated[
    NewAccountRole | None, BeforeValidator(_one_of(NEW_ACCOUNT_ROLES, "The role of new accounts"))
]
ShareImage = Annotated[str | None, BeforeValidator(_share_image)]
CommentsIn = Annotated[CommentsMode | None, BeforeValidator(_one_of(COMMENTS, "Comments"))]
TimeZone = Annotated[str | None, BeforeValidator(_timezone)]
PostsPerPage = Annotated[int | None, BeforeValidator(_posts_per_page)]


def _yes_or_no(value: Any) -> Any:
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if not isinstance(value, bool):
        raise refuse("Mail new posts to subscribers is true or false.")
    return value


NewsletterDefault = Annotated[bool | None, BeforeValidator(_yes_or_no)]


class SiteSettings(BaseModel):
    """The site's settings, as every page and GET /api/site see them."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    title: str = Field(description="The site's name, in every page's header and title.")
    description: str = Field(description="What the site is about: the pages' meta description.")
    navigation: tuple[NavLink, ...] = Field(description="The main navigation's links, in order.")
    footer: str = Field(description="The footer's text (plain text).")
    registration: Registration = Field(
        description="open: anyone signs up; invite: only by invitation; closed: nobody."
    )
    new_account_role: NewAccountRole = Field(description="The role a new account gets.")
    comments: CommentsMode = Field(
        description="open, approve_first (a reader's first comment waits for approval), "
        "approve_all or closed."
    )
    timezone: str = Field(description="The IANA time zone of the dates on pages.")
    posts_per_page: int = Field(description="How many posts a page of the home page lists.")
    share_image: Annotated[str, BeforeValidator(_share_image)] = Field(
        "",
        description="The picture of share cards (og:image) for posts without one of their "
        "own: a path on this site (an upload's /media URL) or an https address; empty: none.",
    )
    newsletter_default: bool = Field(
        True,
        description="Whether a new post is also mailed to subscribers unless its author says "
        "otherwise (`send_newsletter`).",
    )

    @field_validator("timezone")
    @classmethod
    def known_here(cls, value: str) -> str:
        # Checked again when the row is read: a zone this host's tz database lacks would
        # fail every page that shows a date.
        return _timezone(value)

    @classmethod
    def first(cls, settings: Settings) -> "SiteSettings":
        """A new database's settings: from the environment (SITE_NAME, TIMEZONE, ...)."""
        return cls(
            title=settings.site_name,
            description=settings.site_description,
            navigation=(NavLink(label="Home", url="/"),),
            footer="",
            registration=settings.registration,
            new_account_role=settings.new_account_role,
            comments=settings.comments,
            timezone=settings.timezone,
            posts_per_page=settings.posts_per_page,
            newsletter_default=True,
        )


class SiteSettingsUpdate(BaseModel):
    """A change of some settings: what is left out stays as it is."""

    title: Title = None
    description: Description = None
    navigation: Navigation = None
    footer: Footer = None
    registration: RegistrationIn = None
    new_account_role: NewAccountRoleIn = None
    comments: CommentsIn = None
    timezone: TimeZone = None
    posts_per_page: PostsPerPage = None
    share_image: ShareImage = None
    newsletter_default: NewsletterDefault = None

    @model_validator(mode="before")
    @classmethod
    def known_settings(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            raise refuse('Send an object of settings, such as {"title": "My blog"}.')
        unknown = sorted(set(value) - set(cls.model_fields))
        if unknown:
            raise refuse(f"There is no setting named {unknown[0]!r}.")
        return value


def apply(current: SiteSettings, change: SiteSettingsUpdate) -> SiteSettings:
    values = current.model_dump() | change.model_dump(exclude_unset=True)
    return SiteSettings.model_validate(values)
