"""The demo's About page, for `make seed` (fastblog.seed calls `add_demo_about_page`)."""

from concurrent.futures import ThreadPoolExecutor

from fastblog.admin import page_service
from fastblog.config import Settings
from fastblog.db import Database
from fastblog.site.pages import fetch_page
from fastblog.site.schemas import NavLink, SiteSettingsUpdate
from fastblog.site.store import SiteSettingsStore

ABOUT_SLUG = "about"
ABOUT_TITLE = "About this blog"
ABOUT = """\
This is a demo of **fastblog**, a blog its owner runs: a handful of writers, readers who
comment and follow them, and pages like this one that stay put while the posts move on.

## Who writes here

The authors on the home page are made up, and so are their posts, but everything else is
what a real site does: drafts, scheduled posts, tags, comments, likes and feeds.

## Make it yours

- Change the title, the navigation and the footer on **Admin → Site settings**.
- Rewrite this page with `PATCH /api/pages/about`, or delete it.
- Decide who may sign up, and whether comments wait for approval.

> A blog is a conversation with your future self, overheard by friends.

Questions and bug reports are welcome on the project's issue tracker.
"""


async def add_demo_about_page(database: Database, settings: Settings) -> bool:
    """Write the About page and link it from the navigation, unless a page has that slug
    already (True when it was added)."""
    if await fetch_page(database, ABOUT_SLUG) is not None:
        return False
    with ThreadPoolExecutor(max_workers=1) as pool:  # off the loop if ever long enough
        await page_service.create_page(
            database, pool, title=ABOUT_TITLE, slug=ABOUT_SLUG, content=ABOUT, taken=()
        )
    store = SiteSettingsStore(database, settings)
    current = await store.refresh()
    if not any(link.url == f"/{ABOUT_SLUG}" for link in current.navigation):
        navigation = [*current.navigation, NavLink(label="About", url=f"/{ABOUT_SLUG}")]
        await store.change(
            SiteSettingsUpdate.model_validate(
                {"navigation": [link.model_dump() for link in navigation]}
            )
        )
    return True
