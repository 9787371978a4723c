"""The post form: what it shows, how its fields become a post to write, the preview."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import UploadFile

from fastblog.db import utcnow
from fastblog.dependencies import ResourcesDep
from fastblog.exceptions import DomainError
from fastblog.limits import readable_size
from fastblog.media import service as media_service
from fastblog.media.api import MAX_ALT_CHARS, read_picture
from fastblog.media.images import MAX_PIXELS
from fastblog.posts import service
from fastblog.posts.markdown import MAX_TAGS, TAG_RULE
from fastblog.posts.models import DRAFT, PUBLISHED, REVIEW
from fastblog.posts.schemas import PostWrite
from fastblog.web.session import form_values
from fastblog.web.templating import templates

FORM_FIELDS = (
    *("title", "content", "tags", "published_at", "comments_enabled", "picture_alt"),
    *("feature_image", "feature_image_alt", "send_newsletter"),
)
# A checked checkbox sends this; an unchecked one sends nothing ("").
CHECKED = "on"
# The form's buttons: <button name="action" value="...">.
PREVIEW, SAVE_DRAFT, SUBMIT, PICTURE = "preview", "draft", "review", "picture"
PICTURE_ADDED = "The picture is added at the end of the content: move its line where it belongs."
MISSING_ALT = (
    "Warning: the picture has no description. Write what it shows between the [ ] of its "
    "line, for readers who cannot see it."
)


def minute(moment: datetime | None, zone: str) -> str:
    """A datetime-local input's value: the moment in the site's time zone."""
    return f"{moment.astimezone(ZoneInfo(zone)):%Y-%m-%dT%H:%M}" if moment else ""


def _with_zone(local: str, zone: str) -> str:
    """The form's time (no offset: the site's time zone, as its label says) as an ISO time
    with the zone's offset on that day; anything else goes on to the schema's own check."""
    if local[-1:] in {"Z", "z"} or "+" in local:
        return local
    try:
        moment = datetime.fromisoformat(local)
    except ValueError:
        return local
    if moment.tzinfo is not None:
        return local
    return moment.replace(tzinfo=ZoneInfo(zone)).isoformat()


def post_form(
    request: Request,
    *,
    action: str,
    heading: str,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    preview: str | None = None,
    published: bool = False,
    can_publish: bool = True,
    picture_notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """`can_publish`: Publish (and the publication date) or, for a contributor, Submit for
    review."""
    context = {
        "can_publish": can_publish,
        "action": action,
        "heading": heading,
        "values": values,
        "errors": errors or {},
        "preview": preview,
        "published": published,
        "tag_rule": f"Up to {MAX_TAGS}, separated by commas: {TAG_RULE}.",
        "picture_notice": picture_notice,
        "picture_limit": readable_size(request.state.resources.settings.max_picture_bytes),
    }
    return templates.TemplateResponse(request, "posts/form.html", context, status_code=status_code)


def parse_form(
    values: dict[str, str],
    button: str,
    *,
    zone: str,
    keep: datetime | None = None,
    mail_choice: bool = True,
) -> PostWrite:
    """The form as a post to write. `keep`: the post's publication date, which the form shows
    to the minute: sent back unchanged, it stays exact. `mail_choice`: the form showed the
    "Email to subscribers" box (not for a post already published or scheduled)."""
    status_ = {SAVE_DRAFT: DRAFT, SUBMIT: REVIEW}.get(button, PUBLISHED)
    published_at: str | None = values.get("published_at", "").strip() or None
    if status_ != PUBLISHED or (published_at and published_at == minute(keep, zone)):
        published_at = None
    elif published_at:
        published_at = _with_zone(published_at, zone)
    return PostWrite.model_validate(
        {
            "title": values["title"],
            "content": values["content"],
            "tags": values["tags"].split(","),  # blank ones: normalize_tags, as for the API
            "status": status_,
            "published_at": published_at,
            "comments_enabled": values.get("comments_enabled", CHECKED) == CHECKED,
            "feature_image": values.get("feature_image", "").strip() or None,
            "feature_image_alt": values.get("feature_image_alt", "").strip() or None,
            # Shown (and so sent) only while the post is not published yet: None leaves it.
            "send_newsletter": (values["send_newsletter"] == CHECKED) if mail_choice else None,
        }
    )


async def submitted(request: Request) -> tuple[dict[str, str], str]:
    form = await request.form()
    return form_values(form, *FORM_FIELDS), str(form.get("action", ""))


async def preview_html(resources: ResourcesDep, values: dict[str, str]) -> str:
    # The same rendering as a saved post (sanitized, off the loop when long); nothing is saved.
    rendered = await service.render_content(
        resources.process_pool,
        values["content"],
        db=resources.database,
        external_images=resources.settings.external_images,
    )
    return rendered.html


def markdown_image(alt: str, url: str) -> str:
    """`![alt](url)`, the alt's brackets and backslashes escaped so the line stays an image."""
    escaped = alt.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
    return f"![{escaped}]({url})"


async def add_picture(
    request: Request, resources: ResourcesDep, *, owner_id: int, values: dict[str, str]
) -> tuple[dict[str, str], dict[str, str], str | None]:
    """The form's "Upload picture": the picture stored and its Markdown line added to the
    content (the form's values, errors by field, and the notice to show)."""
    upload = (await request.form()).get("picture")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return values, {"picture": "Choose a picture to upload."}, None
    alt = " ".join(values.get("picture_alt", "").split())[:MAX_ALT_CHARS]
    try:
        data = await read_picture(upload, max_bytes=resources.settings.max_picture_bytes)
        picture = await media_service.save_picture(
            resources.database,
            resources.media,
            resources.process_pool,
            owner_id=owner_id,
            data=data,
            alt=alt,
            max_pixels=MAX_PIXELS,
        )
    except DomainError as exc:
        return values, {"picture": exc.message}, None
    content = values.get("content", "").rstrip()
    line = markdown_image(alt, picture.url)
    values = {**values, "content": f"{content}\n\n{line}\n" if content else f"{line}\n"}
    values["picture_alt"] = ""
    return values, {}, PICTURE_ADDED if alt else f"{PICTURE_ADDED} {MISSING_ALT}"


def saved_message(post: dict[str, Any], zone: str) -> str:
    if post["status"] == DRAFT:
        return "Your draft is saved. Only you and the site's editors can see it."
    if post["status"] == REVIEW:
        return "Your post is submitted for review: an editor will publish it."
    if post["published_at"] > utcnow():
        local = post["published_at"].astimezone(ZoneInfo(zone))
        return f"Your post is scheduled for {local:%Y-%m-%d %H:%M} ({zone})."
    return "Your post is published."
