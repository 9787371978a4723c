"""Where the kept public pages learn whether they are current (fastblog.web.kept_pages):
page_versions' sum (migration 0031) and the time the next scheduled post comes out; and,
before a page is rendered to be kept, this process's copy of the site settings brought up to
the version."""

from datetime import datetime

from sqlalchemy import bindparam, literal_column, select

from fastblog.db import Database
from fastblog.posts.models import PageVersion, Post
from fastblog.posts.queries import fetch_version, version_of
from fastblog.site.models import SiteSettingsRow
from fastblog.site.store import ROW_ID, SiteSettingsStore
from fastblog.web.kept_pages import PageState

# What a request for a kept page reads: eight rows.
PAGE_VERSION = version_of(PageVersion)
# Before a page is rendered to be kept: the version and the next scheduled post's time (the
# first entry of posts' (published_at, id) index past now; drafts have no published_at).
NEXT_SCHEDULED = (
    select(Post.published_at)
    .where(Post.published_at > bindparam("now", type_=Post.published_at.type))
    .order_by(Post.published_at)
    # In the text, not a parameter: see fastblog.posts.queries.NEXT_TAGGED_SCHEDULED.
    .limit(literal_column("1"))
    .scalar_subquery()
)
# Which change the site settings' row is at: each process renders with its own copy, read
# again every second (fastblog.site.store), which may be older than the version just read.
SETTINGS_CHANGED = (
    select(SiteSettingsRow.updated_at).where(SiteSettingsRow.id == ROW_ID).scalar_subquery()
)
PAGE_STATE = select(
    PAGE_VERSION.scalar_subquery().label("version"),
    NEXT_SCHEDULED.label("next_at"),
    SETTINGS_CHANGED.label("settings_changed_at"),
)


class PageVersions:
    """The database's answer to "has anything a public page shows changed?"."""

    def __init__(self, database: Database, site: SiteSettingsStore) -> None:
        self.database = database
        self.site = site

    async def current(self) -> int:
        return await fetch_version(self.database, PAGE_VERSION)

    async def state(self, now: datetime) -> PageState:
        (row,) = await self.database.fetch(PAGE_STATE, {"now": now})
        # The settings the page will be rendered with: read again if another process changed
        # them since this one's copy (after the version: never older than it).
        await self.site.as_new_as(row["settings_changed_at"])
        return PageState(int(row["version"]), row["next_at"])
