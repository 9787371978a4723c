"""The one Jinja2 environment: templates are compiled once and cached for the process."""

from datetime import datetime
from pathlib import Path

from fastapi.templating import Jinja2Templates

from fastblog.users.schemas import picture_url

TEMPLATES_DIR = Path(__file__).parent / "templates"


def readable_date(value: datetime) -> str:
    """March 3, 2026 — no zero padding, the month spelled out."""
    return f"{value:%B} {value.day}, {value.year}"


def create_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=TEMPLATES_DIR)
    env = templates.env
    env.autoescape = True  # user-written text is always escaped
    env.filters["readable_date"] = readable_date
    env.globals["picture_url"] = picture_url
    return templates


templates = create_templates()
