"""Comments are Markdown-lite (fastblog.markup, shared with author bios)."""

from fastblog.markup import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, render_lite, sanitize

__all__ = ["ALLOWED_ATTRIBUTES", "ALLOWED_TAGS", "render_comment", "sanitize"]


def render_comment(source: str) -> str:
    """The comment as sanitized HTML."""
    return render_lite(source)
