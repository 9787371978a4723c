"""Markdown to safe HTML, once, when a post is written; and what else is derived from a post's
title and source then: its excerpt, its slug, its normalized tags.

markdown-it-py parses CommonMark with GitHub's tables, strikethrough and bare-URL autolinks
(linkify-it-py); raw HTML in the source is shown as text (html=False). Pygments highlights
fenced code with CSS classes (the stylesheet is /static/css/code.css, generated once by
`python -m fastblog.posts.markdown`). nh3 (the Rust sanitizer ammonia) then keeps only an
allow-list of tags, attributes and URL schemes: whatever the parser lets through, no script,
no event handler and no javascript:/data: URL reaches a page.

Everything here is pure and top-level, so `render` can run in the app's process pool; this
module imports nothing of the app but fastblog.markup (which imports nothing either), so a
worker process starts quickly.
"""

import re
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from html import escape
from typing import Any, Literal

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound
from slugify import slugify

# Shared with comments and bios; fastblog.markup imports nothing of the app either.
from fastblog.markup import LINK_REL, URL_SCHEMES, QuickLinkifyIt

EXCERPT_CHARS = 300
SLUG_CHARS = 80
# Pygments style; its CSS is static/css/code.css. "default": every token colour at least
# 4.5:1 on its ground (tests/web/test_contrast.py computes it).
CODE_STYLE = "default"

ALLOWED_TAGS = {
    *("p", "br", "hr", "blockquote", "pre", "code", "span", "div", "figure", "figcaption"),
    *("h2", "h3", "h4", "h5", "h6"),
    *("em", "strong", "s", "del", "a", "img"),
    *("ul", "ol", "li"),
    *("table", "thead", "tbody", "tr", "th", "td"),
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    # srcset, sizes, width and height only ever come from the renderer (from the media rows of
    # the pictures uploaded here): the source cannot write attributes (raw HTML is text).
    "img": {"src", "alt", "title", "srcset", "sizes", "width", "height", "loading", "decoding"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
    # Pygments' token classes and the fence's language-* class: the source cannot write
    # attributes itself (raw HTML is text), so these only ever come from the renderer.
    "pre": {"class"},
    "code": {"class"},
    "span": {"class"},
    "div": {"class"},
}


# How wide a picture is shown: the article's column (760 px less its padding), or the screen.
PICTURE_SIZES = "(max-width: 760px) calc(100vw - 3rem), 700px"
ExternalImages = Literal["link", "allow"]


@dataclass(frozen=True, slots=True)
class Figure:
    """What the renderer knows of a picture uploaded here (fastblog.media): its size, its
    variants (WebP, narrowest first) and the alt text given at upload."""

    src: str
    width: int
    height: int
    alt: str = ""
    srcset: Sequence[tuple[str, int]] = ()


@dataclass(frozen=True, slots=True)
class Rendered:
    html: str
    excerpt: str
    text: str = ""  # all of the text, without Markdown syntax: what search indexes
    # The first uploaded picture shown, with the alt text it is shown with (share cards).
    picture: Figure | None = None


@cache
def _lexer(language: str) -> Lexer | None:
    try:
        return get_lexer_by_name(language) if language else None
    except ClassNotFound:
        return None


@cache
def _formatter() -> HtmlFormatter:
    # Made once: building one computes a whole style table (a third of a code block's time).
    return HtmlFormatter(nowrap=True)


def _highlight(code: str, language: str, attributes: str) -> str:
    lexer = _lexer(language.lower())
    if lexer is None:
        return ""  # markdown-it escapes it into <pre><code> itself
    spans = highlight(code, lexer, _formatter())
    # Starting with <pre>, markdown-it uses it as is (no second <pre><code> around it).
    return f'<pre class="highlight"><code class="language-{escape(language)}">{spans}</code></pre>'


class Outline:
    """The page's <h1> is the post's title, so the body's outline starts at <h2> whatever level
    its author began with, and never skips one: each heading sits one level below the nearest
    earlier heading the author wrote at a higher level (`#`, `###` → h2, h3; `##`, `####` →
    h2, h3; a post of `##` only is all h2), to h6 at most."""

    def __init__(self) -> None:
        self._open: list[tuple[int, int]] = []  # (the author's level, the page's level), nested

    def level(self, written: int) -> int:
        """The page's level of the next heading, which the author wrote at `written`."""
        while self._open and self._open[-1][0] >= written:
            self._open.pop()
        level = min(6, self._open[-1][1] + 1) if self._open else 2
        self._open.append((written, level))
        return level


def _headings_below_the_title(state: Any) -> None:
    outline = Outline()
    tag = "h2"
    for token in state.tokens:
        if token.type == "heading_open":
            tag = token.tag = f"h{outline.level(int(token.tag[1]))}"
        elif token.type == "heading_close":  # right after its heading's open and inline
            token.tag = tag


_HEADING_TAG = re.compile(r"<(/?)h([1-6])>")


def renumber_headings(html: str) -> str:
    """HTML this module rendered before the outline rule (each heading one level below the
    author's) with its headings renumbered as `render` numbers them now. Exact on our own
    output: its heading tags carry no attribute, and text or code never holds a raw `<`."""
    outline = Outline()
    opened: list[int] = []

    def renumbered(tag: re.Match[str]) -> str:
        if tag[1]:
            return f"</h{opened.pop() if opened else tag[2]}>"
        opened.append(outline.level(int(tag[2])))
        return f"<h{opened[-1]}>"

    return _HEADING_TAG.sub(renumbered, html)


def _figures(state: Any) -> None:
    """A paragraph holding only a picture becomes a <figure> (no <p> around it)."""
    tokens = state.tokens
    for i in range(len(tokens) - 2):
        paragraph, inline, closing = tokens[i : i + 3]
        if paragraph.type != "paragraph_open" or closing.type != "paragraph_close":
            continue
        children = [c for c in inline.children or () if c.type != "softbreak"]
        if (
            len(children) == 1
            and children[0].type == "image"
            and _shown(str(children[0].attrGet("src") or ""), state.env)
        ):
            children[0].meta["figure"] = True
            paragraph.hidden = closing.hidden = True


def _shown(src: str, env: Mapping[str, Any]) -> bool:
    """Whether the picture is shown (an uploaded one, one of this site's, or another site's
    over https when EXTERNAL_IMAGES=allow) rather than linked to."""
    address = src.split("?")[0]
    if address in env.get("pictures", {}) or not ("//" in address[:8] or ":" in address[:8]):
        return True
    return env.get("external_images") == "allow" and src.startswith("https://")


def _attributes(pairs: Sequence[tuple[str, str | int]]) -> str:
    return "".join(f' {name}="{escape(str(value))}"' for name, value in pairs)


def _image(self: Any, tokens: list[Token], idx: int, options: Any, env: dict[str, Any]) -> str:
    """An uploaded picture: its size and variants, lazy unless it is the post's first; another
    site's picture: shown (EXTERNAL_IMAGES=allow, https only) or a link to it."""
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    title = str(token.attrGet("title") or "")
    alt = self.renderInlineAsText(token.children or [], options, env)
    figure: Figure | None = env.get("pictures", {}).get(src.split("?")[0])
    if not _shown(src, env):
        # Never a broken image: the page's CSP would block it, so the reader gets a link.
        return f'<a href="{escape(src)}">{escape(alt or src)}</a>'
    first = not env.get("seen_picture")
    env["seen_picture"] = True
    pairs: list[tuple[str, str | int]] = [("src", src), ("alt", alt)]
    if figure is not None:
        pairs = [("src", figure.src), ("alt", alt or figure.alt)]
        env.setdefault("first_figure", replace(figure, alt=alt or figure.alt))
        if figure.srcset:
            srcset = ", ".join(f"{url} {width}w" for url, width in figure.srcset)
            pairs += [("srcset", srcset), ("sizes", PICTURE_SIZES)]
        pairs += [("width", figure.width), ("height", figure.height)]
    if not first:
        pairs.append(("loading", "lazy"))
    pairs.append(("decoding", "async"))
    if not token.meta.get("figure"):
        return f"<img{_attributes(pairs + ([('title', title)] if title else []))}>"
    caption = f"<figcaption>{escape(title)}</figcaption>" if title else ""
    return f"<figure><img{_attributes(pairs)}>{caption}</figure>\n"


@cache
def _parser(breaks: bool) -> MarkdownIt:
    md = MarkdownIt(
        "commonmark",
        {"html": False, "linkify": True, "breaks": breaks, "highlight": _highlight},
    )
    md.linkify = QuickLinkifyIt()  # the same links, found sooner: see its docstring
    md.enable(["table", "strikethrough", "linkify"])
    md.core.ruler.push("headings_below_the_title", _headings_below_the_title)
    md.core.ruler.push("figures", _figures)
    md.add_render_rule("image", _image)
    return md


def sanitize(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
        filter_style_properties={"text-align"},
        strip_comments=True,
    )


def render(
    source: str,
    *,
    breaks: bool = False,
    pictures: Mapping[str, Figure] | None = None,
    external_images: ExternalImages = "link",
) -> Rendered:
    """The post's HTML (sanitized) and its excerpt. `breaks` keeps every single line break
    as a <br>: how posts written before Markdown looked (the migration renders them so).
    `pictures`: the pictures uploaded here that the source names, by URL (looked up by the
    caller, fastblog.posts.service); `external_images`: the EXTERNAL_IMAGES setting."""
    md = _parser(breaks)
    env: dict[str, Any] = {"pictures": pictures or {}, "external_images": external_images}
    tokens = md.parse(source, env)
    html = sanitize(md.renderer.render(tokens, md.options, env))
    return Rendered(
        html=html,
        excerpt=excerpt_of(tokens),
        text=text_of(tokens),
        picture=env.get("first_figure"),
    )


def _plain(inline: Token) -> str:
    words = []
    for child in inline.children or ():
        if child.type in ("text", "code_inline"):
            words.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            words.append(" ")
        elif child.type == "image":
            words.append(child.content)
    return "".join(words)


def excerpt_of(tokens: list[Token]) -> str:
    """The first paragraph's text, or the start of all the text, at most ~300 characters
    cut at a word."""
    paragraph = next(
        (
            _plain(tokens[i + 1])
            for i, token in enumerate(tokens[:-1])
            if token.type == "paragraph_open" and tokens[i + 1].type == "inline"
        ),
        None,
    )
    text = paragraph or " ".join(
        token.content if token.type != "inline" else _plain(token)
        for token in tokens
        if token.type in ("inline", "fence", "code_block")
    )
    return shorten(" ".join(text.split()), EXCERPT_CHARS)


def text_of(tokens: list[Token]) -> str:
    """Every word a reader sees, one block per line: headings, paragraphs, list items, table
    cells, link texts, image descriptions and code, with no Markdown syntax and no URL that
    is not shown as text. Search indexes it (and cuts its snippets from it)."""
    return "\n".join(
        _plain(token) if token.type == "inline" else token.content.strip("\n")
        for token in tokens
        if token.type in ("inline", "fence", "code_block")
    )


def shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit + 1].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    return cut.rstrip(" ,;:.-\u2013\u2014") + "…"


RESERVED_SLUGS = {"edit", "delete"}  # /posts/{id}/edit and /posts/{id}/delete are forms


def slug_of(title: str) -> str:
    """A readable ASCII slug in any script ("Привет, мир" → "privet-mir")."""
    slug = slugify(title, max_length=SLUG_CHARS, word_boundary=True) or "post"
    return f"{slug}-post" if slug in RESERVED_SLUGS else slug


MAX_TAGS = 5
MAX_TAG_CHARS = 30
# Letters of any script (with the marks many scripts write them with), digits, and "-".
_TAG_CATEGORIES = ("L", "M", "N")
# The one rule, as the API's schema and the post form's hint both say it.
TAG_RULE = (
    f"letters of any script, digits and '-', up to {MAX_TAG_CHARS} characters each; "
    "stored lower-case with '-' for spaces; blank ones are left out"
)


def _tag_character(character: str) -> bool:
    return character == "-" or unicodedata.category(character).startswith(_TAG_CATEGORIES)


class InvalidTagError(ValueError):
    pass


def normalize_tag(raw: str) -> str:
    """Trimmed, lower-case, "-" for spaces; letters, digits and "-" only; 1-30 characters."""
    tag = "-".join(unicodedata.normalize("NFC", raw).strip().lower().split())
    if not tag:
        raise InvalidTagError("A tag cannot be empty.")
    if len(tag) > MAX_TAG_CHARS:
        raise InvalidTagError(f"A tag has at most {MAX_TAG_CHARS} characters: {tag[:40]!r}.")
    if not all(map(_tag_character, tag)):
        raise InvalidTagError(f"A tag has only letters, digits and '-': {tag[:40]!r} has more.")
    return tag


def normalize_tags(raw: list[str]) -> list[str]:
    """Each tag normalized, blank ones and duplicates dropped (first kept), at most five.
    The form ("python, , web") and the API (["python", " ", "web"]) take the same road."""
    tags = list(dict.fromkeys(normalize_tag(tag) for tag in raw if tag.strip()))
    if len(tags) > MAX_TAGS:
        raise InvalidTagError(f"A post has at most {MAX_TAGS} tags.")
    return tags


COMMON_LANGUAGES = (
    *("python", "javascript", "typescript", "bash", "json", "yaml", "html", "css"),
    *("sql", "go", "rust", "java", "c", "cpp", "toml", "diff", "text"),
)


def warm_up() -> None:
    """Build what the first render would otherwise build on the event loop: the linkify
    patterns (~0.15 s) and the lexers of common languages (each ~0.05-0.3 s to import)."""
    render("warm up https://example.com")
    for language in COMMON_LANGUAGES:
        _lexer(language)


def stylesheet() -> str:
    css: str = HtmlFormatter(style=CODE_STYLE).get_style_defs(".highlight")
    return css


if __name__ == "__main__":  # regenerate static/css/code.css
    sys.stdout.write(f"/* Generated by `python -m fastblog.posts.markdown`. */\n{stylesheet()}\n")
