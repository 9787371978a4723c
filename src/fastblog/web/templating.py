"""The one Jinja2 environment: templates are compiled once and cached for the process.

Templates write links as plain paths (`/posts/{{ post.id }}`), not `url_for`: Starlette's
url_for walks the route table on every call, and a page of ten posts made twenty calls,
a measurable share of the home page's time."""

from collections.abc import MutableMapping
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, pass_context
from jinja2.runtime import Context, Macro

from fastblog.media.store import picture_url
from fastblog.site.schemas import SiteSettings
from fastblog.web.session import csrf_token, pop_flashes
from fastblog.web.static_files import static_url
from fastblog.web.urls import page_url

TEMPLATES_DIR = Path(__file__).parent.parent / "templates"


# The month as strftime's %B names it in the C locale the server runs in. Dates are formatted
# by hand: strftime goes through a time.struct_time each call.
MONTHS = (
    "",
    *("January", "February", "March", "April", "May", "June", "July"),
    *("August", "September", "October", "November", "December"),
)
# Each date is formatted once per moment (and time zone), then remembered. datetime's own
# methods are slow for what they do (replace() ~10,000 instructions, isoformat() ~7,000): a
# date took ~20,000 to format, a remembered one ~1,500, and a page of ten posts or twenty
# comments shows twenty to thirty of them. Readers are shown the same posts and comments over
# and over (the newest most), so most are found. At most this many of each (~1 MB in all).
DATES_KEPT = 8192


@lru_cache(maxsize=DATES_KEPT)
def html_datetime(value: datetime) -> str:
    """A `<time datetime>` the HTML standard accepts: the moment in UTC to the second,
    `2026-03-03T08:30:00Z` (isoformat's six fraction digits are more than its three)."""
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def site_zone(context: Context) -> str:
    site: SiteSettings | None = context.get("site")
    return site.timezone if site else "UTC"


def _local(zone: str, value: datetime) -> datetime:
    # ZoneInfo keeps every zone it has made: after the first page this is a dict lookup.
    return value.astimezone(ZoneInfo(zone))


def _day(local: datetime) -> str:
    return f"{MONTHS[local.month]} {local.day}, {local.year}"


@lru_cache(maxsize=DATES_KEPT)
def _date_in(zone: str, value: datetime) -> str:
    return _day(_local(zone, value))


@lru_cache(maxsize=DATES_KEPT)
def _time_in(zone: str, value: datetime) -> str:
    local = _local(zone, value)
    return f"{_day(local)}, {local.hour:02d}:{local.minute:02d} ({zone})"


@pass_context
def readable_date(context: Context, value: datetime) -> str:
    """March 3, 2026 — the day in the site's time zone, no zero padding, the month spelled
    out."""
    return _date_in(site_zone(context), value)


@pass_context
def readable_time(context: Context, value: datetime) -> str:
    """March 3, 2026, 09:30 (Europe/Paris): the moment in the site's time zone, saying which."""
    return _time_in(site_zone(context), value)


TAGS_KEPT = 4096


@lru_cache(maxsize=TAGS_KEPT)
def tag_path(tag: str) -> str:
    """A tag's page, its name quoted as Jinja's `urlencode` quotes it: `/tags/machine-learning`.
    Quoting costs ~9,000 instructions, a page of ten posts links thirty-odd tags, and a blog
    uses few: each is quoted once."""
    return "/tags/" + quote(tag, safe="/")


# Rendered cards (a list's post, a comment: up to the links that differ by viewer), each
# remembered under the values of its row and the time zone. Rendering them was a fifth of
# the home page's instructions (a card: ~23 escaped values, three dates, the tags' links),
# and readers are shown the same newest posts over and over. The key is the whole row, so a
# card is rendered again as soon as anything in it changes (a title, a comment count, the
# author's name), whatever the template shows of it; the macro may read nothing else of the
# page but the time zone. At most this many (a card and its key ~2 KB); the oldest go first.
CARDS_KEPT = 4096
_cards: dict[tuple[Any, ...], str] = {}


def _frozen(container: Any) -> tuple[Any, ...]:
    """A dict or a list of a row (the author, the tags, a picture's variants) as a tuple, to
    be part of a key; plain values as they are (a call for each was a third of a key)."""
    if type(container) is dict:
        return tuple(
            [(name, _frozen(v) if type(v) in _CONTAINERS else v) for name, v in container.items()]
        )
    return tuple([_frozen(v) if type(v) in _CONTAINERS else v for v in container])


def _row_key(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row), _frozen(list(row.values()))


_CONTAINERS = (dict, list)


@pass_context
def card(context: Context, row: dict[str, Any], render: Macro) -> str:
    """`{{ post | card(post_card) }}`: what the macro `render` writes for `row` (Markup, as
    autoescaping makes it), rendered once for the row's values and the site's time zone."""
    key = (render.name, site_zone(context), _row_key(row))
    try:
        text = _cards.get(key)
    except TypeError:  # a value that cannot be part of a key (none of our rows has one)
        return render(row)
    if text is None:
        text = _cards[key] = render(row)
        if len(_cards) > CARDS_KEPT:
            del _cards[next(iter(_cards))]
    return text


def page_context(request: Request) -> dict[str, Any]:
    """What every page may show: the site's settings (title, navigation, footer, time zone),
    who is logged in, pending messages, the CSRF token."""
    has_session = "session" in request.scope
    resources = getattr(request.state, "resources", None)
    site = resources.site.current if resources is not None else None

    def canonical(*keep: str, path: str | None = None) -> str:
        """page_url("page", "cursor"): this page's address, keeping those query parameters."""
        return page_url(request, resources.settings, keep, path) if resources is not None else ""

    return {
        "site": site,
        "site_name": site.title if site else "fastblog",
        "site_description": site.description if site else "",
        "docs_enabled": resources.settings.docs_enabled if resources is not None else False,
        "page_url": canonical,
        "current_user": getattr(request.state, "user", None),
        "flashes": pop_flashes(request) if has_session else [],
        # A function, so only pages with a form create a token (and a session cookie).
        "csrf_token": (lambda: csrf_token(request)) if has_session else (lambda: ""),
    }


class RowsEnvironment(Environment):
    """Templates read the queries' rows, plain dicts, as `post.title`. Jinja tries an attribute
    first and the key only after getattr() has raised: 1.7 us a dot against 0.15 us, a fifth
    of a page of ten posts' CPU. For a dict this reads the key first, except for dict's own
    names (`choices.items()`), which keep Jinja's order: same results, no exception."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in DICT_NAMES:
            try:
                return obj[attribute]
            except KeyError:
                pass  # Jinja's undefined, as before
        return super().getattr(obj, attribute)

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        """A template's globals as one dict (the environment's, the template's own over them)
        rather than Jinja's ChainMap of the two: each template context copies them
        (`set(globals)`, `dict(globals)`) and each import compares them with the page's
        (`_get_default_module`), all in Python's ChainMap code over a ChainMap, ~50,000
        instructions an import, in C over a dict. Same names, same values: the environment's
        globals are complete before the first template loads (create_templates), as Jinja
        asks; a template's own still change that template alone."""
        return {**self.globals, **(d or {})}


DICT_NAMES = frozenset(dir(dict))


def create_templates() -> Jinja2Templates:
    env = RowsEnvironment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,  # user-written text is always escaped
        # No stat() of every template file on every render (a blocking call on the loop, and
        # a sixth of the home page's time): templates change only with a deploy, which
        # restarts the server (`make dev` restarts on changes too).
        auto_reload=False,
    )
    env.filters["html_datetime"] = html_datetime
    env.filters["readable_date"] = readable_date
    env.filters["readable_time"] = readable_time
    # Filters (`{{ user.image_file | picture_url }}`), not globals: Jinja calls a filter
    # directly, a global through Context.call (~12,000 instructions more a call; a post page
    # shows twenty-odd avatars).
    env.filters["picture_url"] = picture_url
    env.filters["static_url"] = static_url
    env.filters["tag_path"] = tag_path
    env.filters["card"] = card
    return Jinja2Templates(env=env, context_processors=[page_context])


templates = create_templates()
