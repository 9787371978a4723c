"""The Annotated aliases routes declare to get what the lifespan opened (fastblog.resources)."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.config import Settings
from fastblog.db import Database
from fastblog.pagination import Keyset, decode_id_cursor
from fastblog.params import Cursor
from fastblog.resources import Resources
from fastblog.site.schemas import SiteSettings
from fastblog.write_limits import WriteLimiter


async def get_resources(request: Request) -> Resources:
    return resources_of(request)


def resources_of(request: Request) -> Resources:
    """The lifespan's resources, for the dependencies on every page's and list's path: they
    take the request and read what they need from here rather than declare `ResourcesDep` or
    `DatabaseDep`. FastAPI solves each declared dependency on every request (its own
    sub-dependencies, parameters and cache key: ~70,000 instructions a node), so a chain of
    small ones is a tenth of a one-post read's CPU."""
    resources: Resources = request.state.resources
    return resources


ResourcesDep = Annotated[Resources, Depends(get_resources)]


async def get_database(request: Request) -> Database:
    database: Database = request.state.resources.database
    return database


async def get_settings_of_app(request: Request) -> Settings:
    settings: Settings = request.state.resources.settings
    return settings


async def current_site_settings(request: Request) -> SiteSettings:
    """The site's settings as the owner set them: this process's copy (fastblog.site.store),
    at most a second old, no database access. Routes declare `SiteDep`; a service is handed
    the value (or `resources.site.current`) by its route."""
    site: SiteSettings = request.state.resources.site.current
    return site


DatabaseDep = Annotated[Database, Depends(get_database)]
SettingsDep = Annotated[Settings, Depends(get_settings_of_app)]
SiteDep = Annotated[SiteSettings, Depends(current_site_settings)]


async def get_write_limiter(request: Request) -> WriteLimiter:
    limiter: WriteLimiter = request.state.resources.write_limiter
    return limiter


# Writes per user and minute: `async with limiter.accepting(COMMENTS, user_id): ...` around
# the write (fastblog.write_limits).
WriteLimiterDep = Annotated[WriteLimiter, Depends(get_write_limiter)]


async def get_session(db: DatabaseDep) -> AsyncIterator[AsyncSession]:
    """A read session for the request (the ORM road, for reads that need ORM objects)."""
    async with db.session() as session:
        yield session


async def get_write_session(db: DatabaseDep) -> AsyncIterator[AsyncSession]:
    """The request's write transaction, for dependencies that load and lock the rows a route
    will change (401, then 404, then 403 come before any change). The service commits."""
    async with db.transaction() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
WriteSessionDep = Annotated[AsyncSession, Depends(get_write_session)]


def _bad_cursor(cursor: str, exc: ValueError) -> RequestValidationError:
    return RequestValidationError(
        [{"type": "value_error", "loc": ("query", "cursor"), "msg": str(exc), "input": cursor}]
    )


async def get_keyset(cursor: Cursor = None) -> Keyset | None:
    """The `?cursor=` of a keyset-paginated list, decoded; a cursor we did not give out is a
    422 on the `cursor` parameter, like any other bad query parameter."""
    if cursor is None or cursor == "":
        return None
    try:
        return Keyset.decode(cursor)
    except ValueError as exc:
        raise _bad_cursor(cursor, exc) from exc


async def get_id_cursor(cursor: Cursor = None) -> int | None:
    """The `?cursor=` of a list ordered by id alone (fastblog.pagination.encode_id_cursor)."""
    if cursor is None or cursor == "":
        return None
    try:
        return decode_id_cursor(cursor)
    except ValueError as exc:
        raise _bad_cursor(cursor, exc) from exc


KeysetDep = Annotated[Keyset | None, Depends(get_keyset)]
IdCursorDep = Annotated[int | None, Depends(get_id_cursor)]
