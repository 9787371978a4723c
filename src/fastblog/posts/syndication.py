"""What feed readers and search engines read: Atom feeds and sitemaps."""

import hashlib
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, HTTPException, Path, Request, Response, status

from fastblog.accounts.dependencies import UserId
from fastblog.compression import MINIMUM_SIZE, VariantCache, coding_for, variant_etag
from fastblog.config import Settings
from fastblog.db import Database, utcnow
from fastblog.dependencies import DatabaseDep, SettingsDep, SiteDep
from fastblog.posts.feeds import (
    ATOM_MEDIA_TYPE,
    Feed,
    atom_feed,
    fetch_latest,
    fetch_latest_by_author,
    fetch_latest_with_tag,
)
from fastblog.posts.meta import author_path
from fastblog.posts.queries import fetch_tag_counts
from fastblog.posts.sitemap import (
    SITEMAP_LIMIT,
    XML_MEDIA_TYPE,
    Kind,
    Url,
    fetch_urls,
    highest_ids,
    sitemap_count,
    sitemap_index,
    urlset,
)
from fastblog.routing import api_router
from fastblog.site.pages import MAX_PAGES_LISTED, fetch_page_urls
from fastblog.web.urls import site_url

router = api_router(include_in_schema=False)

Tag = Annotated[str, Path(min_length=1, max_length=30, description="The tag.")]
SitemapNumber = Annotated[int, Path(ge=1, le=10**9, description="Which range of ids.")]


# Feeds and sitemaps, compressed once per version and coding: readers poll the same bytes.
compressed_documents = VariantCache()


def xml_response(request: Request, xml: bytes, media_type: str) -> Response:
    """The document with an ETag; 304 and no body when the client already has it (feed
    readers poll, and most polls find nothing new). Compressed here, from the cache, rather
    than by fastblog.compression on every request, which leaves an encoded body alone."""
    etag = f'"{hashlib.blake2b(xml, digest_size=16).hexdigest()}"'
    # May be kept, but asked again; a shared cache keeps one copy per coding.
    headers = {"ETag": etag, "Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    coding = coding_for(request.scope)
    if coding is not None and len(xml) >= MINIMUM_SIZE:
        xml = compressed_documents.get(etag, coding, xml)
        headers |= {"ETag": variant_etag(etag, coding), "Content-Encoding": coding}
    return Response(xml, media_type=media_type, headers=headers)


def atom(request: Request, xml: bytes) -> Response:
    return xml_response(request, xml, ATOM_MEDIA_TYPE)


def sitemap_response(request: Request, xml: bytes) -> Response:
    return xml_response(request, xml, XML_MEDIA_TYPE)


def id_authority(site: str, settings: Settings) -> str:
    """The authority of Atom entry ids: FEED_ID_AUTHORITY, else the site's host."""
    return settings.feed_id_authority or urlsplit(site).hostname or "localhost"


@router.get("/feed.xml")
async def site_feed(
    request: Request, db: DatabaseDep, settings: SettingsDep, owner_set: SiteDep
) -> Response:
    """The site's 20 latest posts, as Atom."""
    site = site_url(request, settings)
    feed = Feed(f"{site}/feed.xml", f"{site}/", owner_set.title, "The latest posts")
    return atom(
        request,
        atom_feed(feed, await fetch_latest(db), site=site, authority=id_authority(site, settings)),
    )


@router.get("/users/{user_id}/feed.xml")
async def author_feed(
    request: Request, user_id: UserId, db: DatabaseDep, settings: SettingsDep, owner_set: SiteDep
) -> Response:
    """One author's 20 latest posts, as Atom."""
    found = await fetch_latest_by_author(db, user_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="User not found")
    username, posts = found
    site = site_url(request, settings)
    title = f"Posts by {username} · {owner_set.title}"
    feed = Feed(f"{site}/users/{user_id}/feed.xml", site + author_path(user_id), title, title)
    return atom(request, atom_feed(feed, posts, site=site, authority=id_authority(site, settings)))


@router.get("/tags/{tag}/feed.xml")
async def tag_feed(
    request: Request, tag: Tag, db: DatabaseDep, settings: SettingsDep, owner_set: SiteDep
) -> Response:
    """The 20 latest posts with one tag, as Atom."""
    posts = await fetch_latest_with_tag(db, tag)
    if posts is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Tag not found")
    site = site_url(request, settings)
    title = f"Posts tagged {tag} · {owner_set.title}"
    feed = Feed(f"{site}/tags/{tag}/feed.xml", f"{site}/tags/{tag}", title, title)
    return atom(request, atom_feed(feed, posts, site=site, authority=id_authority(site, settings)))


def get_sitemap_limit() -> int:
    """URLs per sitemap (the protocol's maximum); tests override it to see the split."""
    return SITEMAP_LIMIT


SitemapLimitDep = Annotated[int, Depends(get_sitemap_limit)]


@router.get("/sitemap.xml")
async def sitemap(
    request: Request, db: DatabaseDep, settings: SettingsDep, limit: SitemapLimitDep
) -> Response:
    """Every post and author page; a sitemap index once they may be more than one holds."""
    site = site_url(request, settings)
    posts, authors = await highest_ids(db)
    # A bound on the pages too (home, at most MAX_TAG_PAGES tags and MAX_PAGES_LISTED static
    # pages): the index needs no count.
    if posts + authors + 1 + MAX_TAG_PAGES + MAX_PAGES_LISTED <= limit:
        urls = await site_pages(db)
        urls += await fetch_urls(db, "posts", number=1, limit=limit) if posts else []
        urls += await fetch_urls(db, "authors", number=1, limit=limit) if authors else []
        return sitemap_response(request, urlset(urls, site=site))
    paths = ["/sitemaps/pages.xml"]
    paths += [f"/sitemaps/posts-{n}.xml" for n in range(1, sitemap_count(posts, limit) + 1)]
    paths += [f"/sitemaps/authors-{n}.xml" for n in range(1, sitemap_count(authors, limit) + 1)]
    return sitemap_response(request, sitemap_index(paths, site=site))


async def _part(
    request: Request, db: DatabaseDep, settings: SettingsDep, kind: Kind, number: int, limit: int
) -> Response:
    posts, authors = await highest_ids(db)
    if number > sitemap_count(posts if kind == "posts" else authors, limit):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="No such sitemap")
    urls = await fetch_urls(db, kind, number=number, limit=limit)
    return sitemap_response(request, urlset(urls, site=site_url(request, settings)))


MAX_TAG_PAGES = 1000  # the most used tags; a blog's tags number in the hundreds


async def site_pages(db: Database) -> list[Url]:
    """The home page, the static pages (About, ...) and the pages of the tags published posts
    carry, most used first."""
    tags = await fetch_tag_counts(db, now=utcnow(), limit=MAX_TAG_PAGES)
    pages = await fetch_page_urls(db)
    return [
        Url("/"),
        *(Url(f"/{page['slug']}", page["updated_at"]) for page in pages),
        *(Url(f"/tags/{quote(tag['name'])}") for tag in tags),
    ]


@router.get("/sitemaps/pages.xml")
async def pages_sitemap(request: Request, db: DatabaseDep, settings: SettingsDep) -> Response:
    """The pages that are neither a post nor an author's (home, tags), in a sitemap index."""
    urls = await site_pages(db)
    return sitemap_response(request, urlset(urls, site=site_url(request, settings)))


@router.get("/sitemaps/posts-{number}.xml")
async def posts_sitemap(
    request: Request,
    number: SitemapNumber,
    db: DatabaseDep,
    settings: SettingsDep,
    limit: SitemapLimitDep,
) -> Response:
    """One range of post ids, in a sitemap index."""
    return await _part(request, db, settings, "posts", number, limit)


@router.get("/sitemaps/authors-{number}.xml")
async def authors_sitemap(
    request: Request,
    number: SitemapNumber,
    db: DatabaseDep,
    settings: SettingsDep,
    limit: SitemapLimitDep,
) -> Response:
    """One range of author ids, in a sitemap index."""
    return await _part(request, db, settings, "authors", number, limit)
