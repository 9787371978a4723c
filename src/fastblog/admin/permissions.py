"""Who may: the role checks of the staff routes, in the order 401, then 403."""

from typing import Annotated

from fastapi import Depends

from fastblog.accounts.dependencies import CurrentUserDep, LoggedInDep, forbidden
from fastblog.accounts.models import User
from fastblog.accounts.roles import Role, at_least

SETTINGS_FORBIDDEN = "Only an admin or the owner can change site settings."
PAGES_FORBIDDEN = "Only an editor, an admin or the owner can write pages."
DASHBOARD_FORBIDDEN = "Only an admin or the owner can see the site's dashboard."


def _require(user: User, minimum: Role, message: str) -> User:
    if not at_least(user.role, minimum):
        raise forbidden(message)
    return user


async def api_admin(user: CurrentUserDep) -> User:
    return _require(user, Role.ADMIN, SETTINGS_FORBIDDEN)


async def api_editor(user: CurrentUserDep) -> User:
    return _require(user, Role.EDITOR, PAGES_FORBIDDEN)


async def page_admin_for_settings(user: LoggedInDep) -> User:
    return _require(user, Role.ADMIN, SETTINGS_FORBIDDEN)


async def page_admin(user: LoggedInDep) -> User:
    return _require(user, Role.ADMIN, DASHBOARD_FORBIDDEN)


ApiAdminDep = Annotated[User, Depends(api_admin)]
ApiEditorDep = Annotated[User, Depends(api_editor)]
PageSettingsAdminDep = Annotated[User, Depends(page_admin_for_settings)]
PageAdminDep = Annotated[User, Depends(page_admin)]
