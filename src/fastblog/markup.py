"""Markdown-lite, for what readers write: comments and author bios. Paragraphs (a single
line break is kept), *emphasis*, **strong**, [links](https://…) and bare URLs, `inline
code`. Nothing else is parsed: a `# heading`, an image, a list or a fence stays the text it
was written as, and raw HTML is shown as text. nh3 then keeps only those few tags, whatever
the parser let through.

Low in the package chain (accounts renders bios with it, comments their bodies), so the
link rules it shares with posts live here and fastblog.posts.markdown imports them. Pure and
top-level, like fastblog.posts.markdown.
"""

from functools import cache

import nh3
from markdown_it import MarkdownIt

# The URL schemes a link may have, and the rel every link gets (posts, comments, bios).
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow ugc noopener"

ALLOWED_TAGS = {"p", "br", "em", "strong", "a", "code"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
# The inline rules a comment may use; with the "zero" preset, every other rule stays off
# (block: only paragraphs; no image, no html_inline).
INLINE_RULES = ["emphasis", "link", "autolink", "backticks", "escape", "entity", "newline"]


@cache
def _parser() -> MarkdownIt:
    md = MarkdownIt("zero", {"html": False, "linkify": True, "breaks": True})
    md.enable([*INLINE_RULES, "linkify"])
    return md


def sanitize(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
        strip_comments=True,
    )


def render_lite(source: str) -> str:
    """The Markdown-lite source as sanitized HTML."""
    return sanitize(_parser().render(source))


def count_links(html: str) -> int:
    """How many links rendered HTML holds (what render_lite made of links and bare URLs)."""
    return html.count("<a ")
