"""Comments in Markdown-lite: paragraphs (a single line break is kept), *emphasis*,
**strong**, [links](https://…) and bare URLs, `inline code`. Nothing else is parsed: a
`# heading`, an image, a list or a fence stays the text it was written as, and raw HTML is
shown as text. nh3 then keeps only those few tags, whatever the parser let through.

Pure and top-level, like fastblog.posts.markdown.
"""

from functools import cache

import nh3
from markdown_it import MarkdownIt

from fastblog.posts.markdown import LINK_REL, URL_SCHEMES

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


def render_comment(source: str) -> str:
    """The comment as sanitized HTML."""
    return sanitize(_parser().render(source))
