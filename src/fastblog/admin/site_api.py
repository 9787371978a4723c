"""GET /api/site for anyone, PATCH /api/site for admins and the owner."""

from fastapi import status

from fastblog.admin.permissions import SETTINGS_FORBIDDEN, ApiAdminDep
from fastblog.dependencies import ResourcesDep, SiteDep
from fastblog.params import TOO_LARGE, UNAVAILABLE, Responses, error
from fastblog.routing import api_router
from fastblog.site.schemas import SiteSettings, SiteSettingsUpdate

router = api_router(prefix="/api/site", tags=["site"], responses=UNAVAILABLE)

E401: Responses = {status.HTTP_401_UNAUTHORIZED: error("Missing, invalid or expired token")}
E403: Responses = {status.HTTP_403_FORBIDDEN: error(SETTINGS_FORBIDDEN)}


@router.get("", response_model=SiteSettings)
async def read_site_settings(site: SiteDep) -> SiteSettings:
    """The site's settings: its title, navigation, footer, sign-up and comment rules."""
    return site


@router.patch("", response_model=SiteSettings, responses=E401 | E403 | TOO_LARGE)
async def change_site_settings(
    change: SiteSettingsUpdate, admin: ApiAdminDep, resources: ResourcesDep
) -> SiteSettings:
    """Change some settings (admin or owner); what is left out stays as it is.

    Every process of the site sees the change within two seconds."""
    return await resources.site.change(change)
