"""Demo posts: a title, a Markdown body, and the HTML, excerpt and slug that
fastblog.posts.markdown would derive from them, all written from one structure.

Rendering a post through markdown-it and nh3 costs ~0.5-2.5 ms; a million of them would take
longer than the seed's whole budget. So the generator writes each block twice as it goes, once
as Markdown and once as the HTML `render()` makes of it (tests/test_seed.py checks, on a
sample, that `render(content)` gives exactly this HTML and excerpt, and `slug_of(title)`
this slug). That holds because the text is plain: lower-case ASCII words and ordinary
punctuation, nothing HTML escapes, nothing linkify would take for a link.

The body is real Markdown: 1-8 paragraphs of 1-6 sentences of 3-30 words, now and then
*emphasis*, **strong**, `code`, a [link](https://…), a list or a `##` heading.

This is the seed's hot loop (~30 µs a post), hence its shape: every small decision of a post
is a byte of one random buffer looked up in a 256-entry table, all the words of a post are
drawn at once, and a paragraph is one join over its words.
"""

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from fastblog.posts.markdown import EXCERPT_CHARS, SLUG_CHARS, shorten, slug_of
from fastblog.seed.vocabulary import tag_table, word_table

LINK_REL = "nofollow ugc noopener"  # what the sanitizer adds to every link
SITES = (
    "https://en.wikipedia.org/wiki/",
    "https://docs.python.org/3/library/",
    "https://example.com/notes/",
    "https://github.com/",
    "https://www.postgresql.org/docs/current/",
)
MAX_TITLE_CHARS = 100  # posts.title is a VARCHAR(100)
# At most 8 paragraphs of 6 sentences, 4 bytes each, plus lists and headings: well under this.
DECISION_BYTES = 512
_TAG = re.compile(r"<[^>]*>")
T = TypeVar("T")


def _table(values: Sequence[T]) -> tuple[T, ...]:
    """256 entries in which `values` (repeats make a value likelier) take equal shares:
    a random byte picks one."""
    return tuple(values[index * len(values) // 256] for index in range(256))


PARAGRAPHS = _table((1, 1, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 5, 5, 6, 6, 7, 8))
SENTENCES = _table((1, 2, 2, 3, 3, 3, 4, 4, 5, 6))
SENTENCE_WORDS = _table(
    (3, 4, 5, 6, 7, 8, 8, 9, 10, 10, 11, 12, 12, 13, 14, 15, 16, 18, 20, 24, 30)
)
TITLE_WORDS = _table((3, 4, 4, 5, 5, 5, 6, 6, 6, 7, 7, 8, 8, 9, 10, 11, 12))
ITEMS = _table((2, 3, 3, 4, 5))
ITEM_WORDS = _table((2, 3, 4, 4, 5, 6, 7))
HEADING_WORDS = _table((2, 3, 3, 4, 5))
ENDINGS = _table((".",) * 14 + ("?", "!"))
TAG_COUNTS = (0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5)
# Byte thresholds: how often a sentence has a comma or marked-up words, and how often a
# paragraph after the first is preceded by a list or a heading.
COMMA_BELOW = 77  # 30% of sentences over 8 words
MARKUP_BELOW = 51  # 20% of sentences of 4 words or more
LIST_BELOW = 20  # 8% of paragraphs
HEADING_BELOW = 38  # the next 7%


@dataclass(frozen=True, slots=True)
class Text:
    """A generated post's title and body, with what the app would derive from them."""

    title: str
    slug: str
    content: str
    content_html: str
    excerpt: str
    tags: tuple[str, ...]


def draw_words(rng: random.Random, count: int) -> list[str]:
    """`count` words, Zipf-distributed: two random bytes pick a slot of the word table."""
    table = word_table()
    return list(map(table.__getitem__, memoryview(rng.randbytes(2 * count)).cast("H")))


def _markup(word: str, after: str, kind: int, url: str) -> tuple[str, str, str, str]:
    """Markdown and HTML for a word (and the next one, for a link)."""
    if kind < 90:
        return f"*{word}*", f"<em>{word}</em>", after, after
    if kind < 130:
        return f"**{word}**", f"<strong>{word}</strong>", after, after
    if kind < 190:
        return f"`{word}()`", f"<code>{word}()</code>", after, after
    href = url + after
    return (
        f"[{word}",
        f'<a href="{href}" rel="{LINK_REL}">{word}',
        f"{after}]({href})",
        f"{after}</a>",
    )


def _paragraph(
    words: list[str], lengths: list[int], byte: Callable[[], int]
) -> tuple[str, str, bool]:
    """Sentences of `lengths` words made from `words`: (Markdown, HTML, marked up?)."""
    starts = []
    start = 0
    for length in lengths:
        starts.append(start)
        words[start] = words[start].capitalize()
        start += length
        words[start - 1] += ENDINGS[byte()]
        if length > 8 and byte() < COMMA_BELOW:
            words[start - length + length // 2] += ","
    # Then the markup, on the Markdown's own copy of the words once there is some.
    html = words
    markdown: list[str] | None = None
    for start, length in zip(starts, lengths, strict=True):
        if length >= 4 and byte() < MARKUP_BELOW:
            at = start + 1 + byte() % (length - 3)
            if words[at][-1] != "," and words[at + 1][-1] != ",":
                if markdown is None:
                    markdown = list(words)
                markdown[at], html[at], markdown[at + 1], html[at + 1] = _markup(
                    words[at], words[at + 1], byte(), SITES[byte() % len(SITES)]
                )
    html_text = " ".join(html)
    markdown_text = html_text if markdown is None else " ".join(markdown)
    return markdown_text, html_text, markdown is not None


def body(rng: random.Random) -> tuple[str, str, str]:
    """A post's Markdown, its HTML and its excerpt. It always opens with a paragraph (the
    excerpt is the first paragraph's text)."""
    byte = iter(rng.randbytes(DECISION_BYTES)).__next__
    # The plan first (what blocks, how many words each), so that one draw gives every word.
    plan: list[tuple[str, list[int]]] = []
    for index in range(PARAGRAPHS[byte()]):
        roll = byte()
        if index and roll < LIST_BELOW:
            kind = "ol" if roll < LIST_BELOW // 3 else "ul"
            plan.append((kind, [ITEM_WORDS[byte()] for _ in range(ITEMS[byte()])]))
        elif index and roll < HEADING_BELOW:
            plan.append(("h", [HEADING_WORDS[byte()]]))
        plan.append(("p", [SENTENCE_WORDS[byte()] for _ in range(SENTENCES[byte()])]))
    words = draw_words(rng, sum(sum(lengths) for _, lengths in plan))
    markdown: list[str] = []
    html: list[str] = []
    excerpt = ""
    start = 0
    for kind, lengths in plan:
        if kind == "p":
            end = start + sum(lengths)
            text, text_html, marked = _paragraph(words[start:end], lengths, byte)
            if not markdown:
                excerpt = shorten(_TAG.sub("", text_html) if marked else text_html, EXCERPT_CHARS)
            markdown.append(text)
            html.append(f"<p>{text_html}</p>\n")
        else:
            items = []
            end = start
            for length in lengths:
                items.append(" ".join(words[end : end + length]).capitalize())
                end += length
            if kind == "h":
                # A `##` in the body is an <h3> on the page: the title is the page's <h1>,
                # and the renderer moves every heading one level down.
                markdown.append(f"## {items[0]}")
                html.append(f"<h3>{items[0]}</h3>\n")
            else:
                ordered = kind == "ol"
                markdown.append(
                    "\n".join(
                        f"{n}. {item}" if ordered else f"- {item}"
                        for n, item in enumerate(items, 1)
                    )
                )
                html.append(
                    f"<{kind}>\n" + "".join(f"<li>{item}</li>\n" for item in items) + f"</{kind}>\n"
                )
        start = end
    return "\n\n".join(markdown), "".join(html), excerpt


def title(rng: random.Random) -> tuple[str, str]:
    """A title of 3-12 words (fewer when they would not fit the column) and its slug."""
    count, question = rng.randbytes(2)
    words = draw_words(rng, TITLE_WORDS[count])
    while len(words) > 3 and sum(map(len, words)) + len(words) > MAX_TITLE_CHARS:
        words.pop()
    text = " ".join(words).capitalize()
    slug = "-".join(words)
    # A long slug is cut at a word by python-slugify's own rule; a short one is just this.
    if len(slug) >= SLUG_CHARS:
        slug = slug_of(text)
    return text + ("?" if question < 13 else ""), slug


def tags(rng: random.Random) -> tuple[str, ...]:
    """0-5 distinct tags, the popular ones far more often than the tail."""
    count = TAG_COUNTS[rng.getrandbits(8) % len(TAG_COUNTS)]
    table = tag_table()
    chosen: dict[str, None] = {}
    while len(chosen) < count:
        chosen[table[rng.getrandbits(12)]] = None
    return tuple(chosen)


def post_text(rng: random.Random) -> Text:
    heading, slug = title(rng)
    content, content_html, excerpt = body(rng)
    return Text(heading, slug, content, content_html, excerpt, tags(rng))
