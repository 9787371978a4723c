"""The site settings every page reads, without a statement per request.

Each process keeps the settings in memory and reads the one row again every
REFRESH_SECONDS in a task of its own: a change made through any worker on any host shows
everywhere within that interval plus one query (the rule: within 2 seconds). Requests never
wait for the database for them, so the home page and the post page cost what they did
before there were settings. The process that makes a change sees it at once.

A new database takes its first values from the environment (SITE_NAME, TIMEZONE, ...): the
first process to start writes them into the row, and from then on the row rules. With no row
(a database emptied by hand, or not reachable at start-up) the environment's values serve
until there is one.
"""

import logging
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Insert, select
from sqlalchemy.dialects import postgresql, sqlite

from fastblog.config import Settings
from fastblog.db import Database, Row, utcnow
from fastblog.polling import PollingLoop
from fastblog.site.models import SiteSettingsRow
from fastblog.site.schemas import SiteSettings, SiteSettingsUpdate, apply

logger = logging.getLogger(__name__)

REFRESH_SECONDS = 1.0
ROW_ID = 1

SETTINGS_ROW = select(
    *(SiteSettingsRow.__table__.c[name] for name in SiteSettings.model_fields),
    SiteSettingsRow.updated_at,  # which change this copy is (as_new_as); not a setting
).where(SiteSettingsRow.id == ROW_ID)


def _columns(values: SiteSettings) -> dict[str, Any]:
    return {"id": ROW_ID, **values.model_dump(mode="json"), "updated_at": utcnow()}


def _insert_if_missing(dialect: str) -> Insert:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(SiteSettingsRow).on_conflict_do_nothing(index_elements=["id"])


class SiteSettingsStore:
    """This process's copy of the settings (`current`), kept fresh by `start()`."""

    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.first = SiteSettings.first(settings)
        self.current = self.first
        self._row: Row | None = None
        self._loop = PollingLoop("Site settings", self._pass, REFRESH_SECONDS, log=logger)

    async def start(self) -> None:
        """Write the first values if the database has none, read the row, and keep reading."""
        try:
            await self._insert_first_values()
            await self.refresh()
        except Exception as exc:  # the app still serves (with the environment's values), retries
            # A database that is away is a state, not a bug: one line, no traceback.
            logger.warning("Could not read the site settings (%r); retrying in the background", exc)
        self._loop.start(first_pass_in=REFRESH_SECONDS)  # just read: the next read in a second

    async def _insert_first_values(self) -> None:
        # A transaction of the ORM road, not the compiled road's writer: a start-up's one
        # write does not open the writer's own connection before a request needs it.
        statement = _insert_if_missing(self.database.dialect.name)
        async with self.database.transaction() as session:
            await session.execute(statement.values(_columns(self.first)))
            await session.commit()

    async def stop(self) -> None:
        await self._loop.stop()

    async def _pass(self) -> bool:
        await self.refresh()
        return False

    async def refresh(self) -> SiteSettings:
        """Read the row now (one statement); unchanged rows are not parsed again."""
        row = await self.database.fetch_one(SETTINGS_ROW)
        if row != self._row:
            self._row = row
            self.current = self._parse(row)
        return self.current

    async def as_new_as(self, updated_at: datetime | None) -> None:
        """Read the row again now unless this copy is the one last changed at `updated_at`
        (None: there is no row). A page kept by the process (fastblog.web.kept_pages) must
        not show settings older than the version it is kept at."""
        loaded = self._row["updated_at"] if self._row is not None else None
        if loaded != updated_at:
            await self.refresh()

    def forget(self) -> None:
        """Back to the environment's values until the next read (tests empty the database)."""
        self._row = None
        self.current = self.first

    def _parse(self, row: Row | None) -> SiteSettings:
        if row is None:
            return self.first
        try:
            return SiteSettings.model_validate(row)
        except ValidationError:
            # Written by hand, or a time zone this host's tz database lacks: keep serving.
            logger.exception("The site_settings row is not valid; keeping the previous values")
            return self.current

    async def change(self, change: SiteSettingsUpdate) -> SiteSettings:
        """Apply a change in one transaction, the row locked: two admins changing different
        settings at once both keep their change."""
        async with self.database.transaction() as session:
            row = await session.get(SiteSettingsRow, ROW_ID, with_for_update=True)
            if row is None:  # emptied since start-up: the first values, then the change
                row = SiteSettingsRow(**_columns(self.first))
                session.add(row)
            before = SiteSettings.model_validate(row)
            after = apply(before, change)
            for name, value in after.model_dump(mode="json").items():
                setattr(row, name, value)
            row.updated_at = utcnow()
            await session.commit()
        self.current = after  # this process sees its own change at once
        return after
