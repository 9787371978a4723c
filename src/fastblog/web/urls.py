"""Absolute addresses, for what leaves the site: canonical links, feeds, sitemaps, share cards."""

from fastapi import Request

from fastblog.config import Settings


def site_url(request: Request, settings: Settings) -> str:
    """The site's address without a trailing slash: PUBLIC_BASE_URL when set (behind a proxy
    the request may name an inner host), else the address the request came to."""
    return (settings.public_base_url or str(request.base_url)).rstrip("/")
