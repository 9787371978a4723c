"""The static pages' one-statement reads (fastblog.db's compiled road)."""

from sqlalchemy import bindparam, select

from fastblog.db import Database, Row
from fastblog.site.models import Page

# A site has a handful (About, Contact, Colophon): the sitemap lists at most this many.
MAX_PAGES_LISTED = 1000

PAGE_BY_SLUG = select(
    Page.id,
    Page.slug,
    Page.title,
    Page.content,
    Page.content_html,
    Page.created_at,
    Page.updated_at,
).where(Page.slug == bindparam("slug"))
PAGE_URLS = select(Page.slug, Page.updated_at).order_by(Page.slug).limit(MAX_PAGES_LISTED)


async def fetch_page(db: Database, slug: str) -> Row | None:
    return await db.fetch_one(PAGE_BY_SLUG, {"slug": slug})


async def fetch_page_urls(db: Database) -> list[Row]:
    """Every page's slug and last change, for the sitemap."""
    return await db.fetch(PAGE_URLS)
