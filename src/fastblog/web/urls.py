"""Absolute addresses, for what leaves the site: canonical links, feeds, sitemaps, share cards."""

from urllib.parse import urlencode

from fastapi import Request

from fastblog.config import Settings


def site_url(request: Request, settings: Settings) -> str:
    """The site's address without a trailing slash: PUBLIC_BASE_URL when set (behind a proxy
    the request may name an inner host), else the address the request came to."""
    return (settings.public_base_url or str(request.base_url)).rstrip("/")


def page_url(
    request: Request, settings: Settings, keep: tuple[str, ...], path: str | None = None
) -> str:
    """The page's own absolute address, for its `<link rel="canonical">`: the site's address,
    the path (or `path`), and of the query only the non-empty parameters in `keep` (what
    chooses the posts shown: a filter, the paging), in `keep`'s order (the
    order of the links the site gives out, so that one page has one address). A page 2 is its own
    canonical, as Google asks of paged lists; a tracking parameter is dropped."""
    params = request.query_params
    query = urlencode([(name, params[name]) for name in keep if params.get(name)])
    address = site_url(request, settings) + (path or request.url.path)
    return f"{address}?{query}" if query else address
