"""/admin: the dashboard, and /admin/settings, the site settings as a form (no JavaScript)."""

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from fastblog.accounts.roles import Role
from fastblog.admin import page_service, queries
from fastblog.admin.permissions import PageAdminDep, PageSettingsAdminDep
from fastblog.config import time_zone_names
from fastblog.dependencies import DatabaseDep, ResourcesDep, SiteDep
from fastblog.routing import api_router
from fastblog.site.schemas import NEW_ACCOUNT_ROLES, SiteSettings, SiteSettingsUpdate
from fastblog.web.session import CsrfProtected, flash, redirect
from fastblog.web.templating import templates

router = api_router(prefix="/admin", include_in_schema=False, default_response_class=HTMLResponse)

# The form has a field for every setting, named as the setting.
FORM_FIELDS = tuple(SiteSettings.model_fields)
CHOICES = {
    "registration": {
        "open": "Open: anyone can sign up",
        "invite": "By invitation only",
        "closed": "Closed: nobody can sign up",
    },
    "new_account_role": {role: role.capitalize() for role in NEW_ACCOUNT_ROLES},
    "comments": {
        "open": "Open: comments appear at once",
        "approve_first": "A reader's first comment waits for approval",
        "approve_all": "Every comment waits for approval",
        "closed": "Closed: no new comments",
    },
    "newsletter_default": {
        "True": "Mail new posts to subscribers unless the author unticks it",
        "False": "Mail a post only when its author ticks it",
    },
}
COMMON_ZONES = ("UTC", "Europe/London", "Europe/Paris", "America/New_York", "Asia/Tokyo")


@router.get("", name="admin")
async def dashboard(request: Request, admin: PageAdminDep, db: DatabaseDep) -> HTMLResponse:
    """What the site holds: posts by status, accounts by role, and where to manage them."""
    roles = await queries.account_counts(db)
    context = {
        "posts": await queries.post_counts(db),
        "roles": [(role.value, roles.get(role.value, 0)) for role in Role],
        "accounts": sum(roles.values()),
        "pages": await page_service.list_pages(db),
        "waiting_comments": await queries.waiting_comments(db),
        "pending_invitations": await queries.pending_invitations(db),
    }
    return templates.TemplateResponse(request, "admin/dashboard.html", context)


def navigation_text(site: SiteSettings) -> str:
    return "\n".join(f"{link.label} | {link.url}" for link in site.navigation)


def parse_navigation(text: str) -> list[dict[str, str]] | str:
    """One link a line, "Label | address"; or a message saying which line is wrong."""
    links = []
    for number, line in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        if not line.strip():
            continue
        label, bar, url = line.rpartition("|")
        if not bar:
            return f"Line {number}: write a label, a bar and an address, such as About | /about"
        links.append({"label": label, "url": url})
    return links


def settings_form(
    request: Request, values: dict[str, str], errors: dict[str, str], status_code: int = 200
) -> HTMLResponse:
    context = {
        "values": values,
        "errors": errors,
        "choices": CHOICES,
        "zones": sorted(time_zone_names()),
        "common_zones": COMMON_ZONES,
    }
    return templates.TemplateResponse(
        request, "admin/settings.html", context, status_code=status_code
    )


def form_of(site: SiteSettings) -> dict[str, str]:
    values = {name: str(value) for name, value in site.model_dump().items()}
    return values | {"navigation": navigation_text(site)}


@router.get("/settings", name="admin_settings")
async def settings_page(
    request: Request, admin: PageSettingsAdminDep, site: SiteDep
) -> HTMLResponse:
    """The site's settings, as a form."""
    return settings_form(request, form_of(site), {})


def _errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors():
        loc = error["loc"]
        field = str(loc[0]) if loc else "form"
        message = str(error["msg"])
        if field == "navigation" and len(loc) > 1 and isinstance(loc[1], int):
            message = f"Line {loc[1] + 1}: {message}"
        errors.setdefault(field, message)
    return errors


@router.post("/settings", dependencies=[CsrfProtected])
async def save_settings(
    request: Request, admin: PageSettingsAdminDep, resources: ResourcesDep
) -> Response:
    """Save the settings; every process shows them within two seconds."""
    form = await request.form()
    values = {name: str(form.get(name, "")) for name in FORM_FIELDS}
    change: dict[str, Any] = dict(values)
    navigation = parse_navigation(values["navigation"])
    if isinstance(navigation, str):
        return settings_form(request, values, {"navigation": navigation}, status_code=422)
    change["navigation"] = navigation
    per_page = values["posts_per_page"].strip()
    change["posts_per_page"] = int(per_page) if per_page.isdigit() else per_page
    if not values["newsletter_default"]:  # not sent: stays as it is
        del change["newsletter_default"]
    try:
        data = SiteSettingsUpdate.model_validate(change)
    except ValidationError as exc:
        return settings_form(request, values, _errors(exc), status_code=422)
    await resources.site.change(data)
    flash(request, "The settings are saved.")
    return redirect("/admin/settings")
