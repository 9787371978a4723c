"""Markdown-lite, for what readers write: comments and author bios. Paragraphs (a single
line break is kept), *emphasis*, **strong**, [links](https://…) and bare URLs, `inline
code`. Nothing else is parsed: a `# heading`, an image, a list or a fence stays the text it
was written as, and raw HTML is shown as text. nh3 then keeps only those few tags, whatever
the parser let through.

Low in the package chain (accounts renders bios with it, comments their bodies), so the
link rules it shares with posts live here and fastblog.posts.markdown imports them. Pure and
top-level, like fastblog.posts.markdown.
"""

import re
from functools import cache

import nh3
from linkify_it import LinkifyIt
from markdown_it import MarkdownIt

# The URL schemes a link may have, and the rel every link gets (posts, comments, bios).
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow ugc noopener"

ALLOWED_TAGS = {"p", "br", "em", "strong", "a", "code"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
# The inline rules a comment may use; with the "zero" preset, every other rule stays off
# (block: only paragraphs; no image, no html_inline).
INLINE_RULES = ["emphasis", "link", "autolink", "backticks", "escape", "entity", "newline"]


# The ':' of a schema name (http: https: ftp: mailto:), and a '.' that may begin a host's last
# labels: "www." (the www in any case, as linkify-it reads it), an IP address's ".1." or
# ".123.", a TLD's ".com". Both begin with a literal ':' or '.', so `re` jumps from one of those
# characters to the next instead of trying the pattern at every character.
_SCHEMA_OR_HOST = re.compile(r":(?<=(?i:tp|ps|to):)|\.(?:\d{1,3}\.|[^\W\d]|(?<=(?i:www)\.))")


def may_hold_a_link(text: str) -> bool:
    """False only where linkify-it finds no link candidate either. Each alternative of its
    pretest's pattern (`LinkifyIt().re["pretest"]`, searched with re.IGNORECASE) needs one of:

    - a schema name: "//", or a ':' after "tp", "ps" or "to" (in any case);
    - an e-mail's '@';
    - "www.", an IP address's ".1." or a TLD's ".com": a '.' after "www", before 1-3 digits
      and a '.', or before a letter (every character IGNORECASE takes for a TLD's first
      letter is a word character, and no digit);
    - "localhost": in the case-folded text (every character IGNORECASE takes for one of its
      letters case-folds to that letter).

    tests/posts/test_linkify.py checks these premises for every code point, and the answers
    against linkify-it's own on generated text."""
    return (
        "//" in text
        or "@" in text
        or _SCHEMA_OR_HOST.search(text) is not None
        or "localhost" in text.casefold()
    )


class QuickLinkifyIt(LinkifyIt):  # type: ignore[misc]  # linkify-it has no type hints
    """linkify-it answering exactly as it does, sooner. markdown-it asks `pretest` of every
    paragraph, heading, list item and table cell, and `test` of each text in those that pass,
    before it looks for links with `match`. linkify-it's pretest searches one pattern with
    IGNORECASE, trying at every character every schema after a separator and every TLD after
    a '.': ~80% of the render of 4.4 KB of prose without a link (docs/performance.md). A few
    `in` tests and one regular expression with a literal prefix rule most texts out first, and
    linkify-it's own check decides the others, so every answer, and every page, is the same.

    Written for linkify-it's default schemas and TLDs: `add()` or `tlds()` would need the
    premises of `may_hold_a_link` checked again."""

    def pretest(self, text: str) -> bool:
        return may_hold_a_link(text) and bool(super().pretest(text))

    def test(self, text: str) -> bool:
        return may_hold_a_link(text) and bool(super().test(text))


@cache
def _parser() -> MarkdownIt:
    md = MarkdownIt("zero", {"html": False, "linkify": True, "breaks": True})
    md.linkify = QuickLinkifyIt()
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
