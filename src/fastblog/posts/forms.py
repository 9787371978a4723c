"""The post form: what it shows, how its fields become a post to write, the preview."""

from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from fastblog.db import utcnow
from fastblog.dependencies import ResourcesDep
from fastblog.posts import service
from fastblog.posts.markdown import MAX_TAGS, TAG_RULE
from fastblog.posts.models import DRAFT, PUBLISHED
from fastblog.posts.schemas import PostWrite
from fastblog.web.session import form_values
from fastblog.web.templating import templates

FORM_FIELDS = ("title", "content", "tags", "published_at")
# The form's buttons: <button name="action" value="...">.
PREVIEW, SAVE_DRAFT = "preview", "draft"


def minute(moment: datetime | None) -> str:
    """A datetime-local input's value (UTC)."""
    return f"{moment.astimezone(UTC):%Y-%m-%dT%H:%M}" if moment else ""


def post_form(
    request: Request,
    *,
    action: str,
    heading: str,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    preview: str | None = None,
    published: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "action": action,
        "heading": heading,
        "values": values,
        "errors": errors or {},
        "preview": preview,
        "published": published,
        "tag_rule": f"Up to {MAX_TAGS}, separated by commas: {TAG_RULE}.",
    }
    return templates.TemplateResponse(request, "posts/form.html", context, status_code=status_code)


def parse_form(values: dict[str, str], button: str, *, keep: datetime | None = None) -> PostWrite:
    """The form as a post to write. `keep`: the post's publication date, which the form shows
    to the minute: sent back unchanged, it stays exact."""
    status_ = DRAFT if button == SAVE_DRAFT else PUBLISHED
    published_at: str | None = values["published_at"].strip() or None
    if status_ == DRAFT or (published_at and published_at == minute(keep)):
        published_at = None
    elif published_at and published_at[-1:] != "Z" and "+" not in published_at:
        published_at += "Z"  # the form asks for UTC
    return PostWrite.model_validate(
        {
            "title": values["title"],
            "content": values["content"],
            "tags": values["tags"].split(","),  # blank ones: normalize_tags, as for the API
            "status": status_,
            "published_at": published_at,
        }
    )


async def submitted(request: Request) -> tuple[dict[str, str], str]:
    form = await request.form()
    return form_values(form, *FORM_FIELDS), str(form.get("action", ""))


async def preview_html(resources: ResourcesDep, values: dict[str, str]) -> str:
    # The same rendering as a saved post (sanitized, off the loop when long); nothing is saved.
    return (await service.render_content(resources.process_pool, values["content"])).html


def saved_message(post: dict[str, Any]) -> str:
    if post["status"] == DRAFT:
        return "Your draft is saved. Only you can see it."
    if post["published_at"] > utcnow():
        return f"Your post is scheduled for {post['published_at']:%Y-%m-%d %H:%M} UTC."
    return "Your post is published."
