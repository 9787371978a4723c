"""Writing static pages: the Markdown rendered as a post's (before the transaction), the slug
checked against the site's own routes and the other pages."""

from collections.abc import Iterable
from concurrent.futures import Executor
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from fastblog.db import Database, utcnow
from fastblog.exceptions import InvalidInputError, NotFoundError
from fastblog.posts.markdown import ExternalImages
from fastblog.posts.service import render_content
from fastblog.site.models import Page

SLUG_TAKEN = "Another page already has this slug."


def route_taken(slug: str, taken: Iterable[str]) -> None:
    if slug in taken:
        raise InvalidInputError(
            f"/{slug} is an address of the site itself; choose another slug.", field="slug"
        )


def public(page: Page) -> dict[str, Any]:
    return {
        "slug": page.slug,
        "title": page.title,
        "content": page.content,
        "content_html": page.content_html,
        "url": f"/{page.slug}",
        "created_at": page.created_at,
        "updated_at": page.updated_at,
    }


async def create_page(
    db: Database,
    pool: Executor,
    *,
    title: str,
    slug: str,
    content: str,
    taken: Iterable[str],
    external_images: ExternalImages = "link",
) -> dict[str, Any]:
    route_taken(slug, taken)
    rendered = await render_content(pool, content, db=db, external_images=external_images)
    now = utcnow()
    page = Page(
        slug=slug,
        title=title,
        content=content,
        content_html=rendered.html,
        created_at=now,
        updated_at=now,
    )
    async with db.transaction() as session:
        if await session.scalar(select(Page.id).where(Page.slug == slug)) is not None:
            raise InvalidInputError(SLUG_TAKEN, field="slug")
        session.add(page)
        try:
            await session.commit()
        except IntegrityError:  # the same slug, by someone else, at the same moment
            raise InvalidInputError(SLUG_TAKEN, field="slug") from None
    return public(page)


async def change_page(
    db: Database,
    pool: Executor,
    *,
    slug: str,
    changes: dict[str, Any],
    taken: Iterable[str],
    external_images: ExternalImages = "link",
) -> dict[str, Any]:
    new_slug = changes.get("slug")
    if new_slug is not None and new_slug != slug:
        route_taken(new_slug, taken)
    rendered = (
        await render_content(pool, changes["content"], db=db, external_images=external_images)
        if "content" in changes
        else None
    )
    async with db.transaction() as session:
        page = await session.scalar(select(Page).where(Page.slug == slug).with_for_update())
        if page is None:
            raise NotFoundError("Page not found")
        if new_slug is not None and new_slug != slug:
            taken_by = await session.scalar(select(Page.id).where(Page.slug == new_slug))
            if taken_by is not None:
                raise InvalidInputError(SLUG_TAKEN, field="slug")
        for name in ("title", "slug", "content"):
            if name in changes:
                setattr(page, name, changes[name])
        if rendered is not None:
            page.content_html = rendered.html
        page.updated_at = utcnow()
        try:
            await session.commit()
        except IntegrityError:
            raise InvalidInputError(SLUG_TAKEN, field="slug") from None
    return public(page)


async def delete_page(db: Database, *, slug: str) -> None:
    async with db.transaction() as session:
        page = await session.scalar(select(Page).where(Page.slug == slug).with_for_update())
        if page is None:
            raise NotFoundError("Page not found")
        await session.delete(page)
        await session.commit()


async def list_pages(db: Database) -> list[dict[str, Any]]:
    async with db.session() as session:
        pages = (await session.scalars(select(Page).order_by(Page.slug))).all()
    return [public(page) for page in pages]
