"""The one Jinja2 environment: templates are compiled once and cached for the process.

Templates write links as plain paths (`/posts/{{ post.id }}`), not `url_for`: Starlette's
url_for walks the route table on every call, and a page of ten posts made twenty calls,
a measurable share of the home page's time."""

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates

from fastblog.media import picture_url
from fastblog.web.session import csrf_token, pop_flashes

TEMPLATES_DIR = Path(__file__).parent.parent / "templates"


def readable_date(value: datetime) -> str:
    """March 3, 2026 — no zero padding, the month spelled out."""
    return f"{value:%B} {value.day}, {value.year}"


def page_context(request: Request) -> dict[str, Any]:
    """What every page may show: the site's name, who is logged in, pending messages, the
    CSRF token."""
    has_session = "session" in request.scope
    resources = getattr(request.state, "resources", None)
    settings = resources.settings if resources is not None else None
    return {
        "site_name": settings.site_name if settings else "fastblog",
        "site_description": settings.site_description if settings else "",
        "current_user": getattr(request.state, "user", None),
        "flashes": pop_flashes(request) if has_session else [],
        # A function, so only pages with a form create a token (and a session cookie).
        "csrf_token": (lambda: csrf_token(request)) if has_session else (lambda: ""),
    }


def create_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=TEMPLATES_DIR, context_processors=[page_context])
    env = templates.env
    env.autoescape = True  # user-written text is always escaped
    # No stat() of every template file on every render (a blocking call on the loop, and
    # a sixth of the home page's time): templates change only with a deploy, which restarts
    # the server (`make dev` restarts on changes too).
    env.auto_reload = False
    env.filters["readable_date"] = readable_date
    env.globals["picture_url"] = picture_url
    return templates


templates = create_templates()
