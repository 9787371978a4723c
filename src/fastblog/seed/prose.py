"""Demo posts: a title, a Markdown body, and the HTML, excerpt, text and slug that
fastblog.posts.markdown would derive from them, all written from one structure.

Rendering a post through markdown-it and nh3 costs ~0.5-2.5 ms; a million of them would take
longer than the seed's whole budget. So the generator writes each block twice as it goes, once
as Markdown and once as the HTML `render()` makes of it (tests/seed/test_prose.py checks, on a
sample, that `render(content)` gives exactly this HTML and excerpt, and `slug_of(title)`
this slug). That holds because the text is plain: lower-case ASCII words and ordinary
punctuation, nothing HTML escapes, nothing linkify would take for a link.

The body is real Markdown: 1-8 paragraphs of 1-6 sentences of 3-30 words, now and then
*emphasis*, **strong**, `code`, a [link](https://…), a list or a `##` heading.

This is the seed's hot loop, hence its shape: every small decision of a post is a byte of
one random buffer looked up in a 256-entry table, and a sentence is a slice of a long run
of words drawn once (`corpus`).
"""

import random
import re
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import accumulate
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
CORPUS_BITS = 22  # at most 4 million words; fewer for small blogs (corpus_bits)
CORPUS_SEED = 20261201
MAX_SLICE_WORDS = 30  # the longest sentence
# At most 8 paragraphs of 6 sentences of at most 6 bytes, with lists and headings: under this.
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
    body_text: str  # what text_of() gives: the words a reader sees, one block per line
    tags: tuple[str, ...]


def draw_words(rng: random.Random, count: int) -> list[str]:
    """`count` words, Zipf-distributed: two random bytes pick a slot of the word table."""
    table = word_table()
    return list(map(table.__getitem__, memoryview(rng.randbytes(2 * count)).cast("H")))


def corpus_bits(posts: int) -> int:
    """Corpus size (as a power of two) for a blog of `posts`: ~16 words a post, 64k-4M."""
    return min(CORPUS_BITS, max(16, (16 * posts).bit_length()))


@cache
def corpus(bits: int = CORPUS_BITS) -> tuple[str, "array[int]"]:
    """A run of 2**bits words drawn from the Zipf table, and where each word starts.

    A sentence is a slice of it from a random word on: one copy of a few dozen characters
    instead of a dozen lookups and a join (a post's words were most of its cost). Slices
    at random starts keep every word's frequency; ~4 million words keep sentences from
    repeating (a million posts use ~150 million words, so any word sequence recurs at
    random places, as common phrases do, but not whole sentences)."""
    words = draw_words(random.Random(CORPUS_SEED), (1 << bits) + MAX_SLICE_WORDS)
    offsets = array("I", [0])
    offsets.extend(accumulate(len(word) + 1 for word in words))
    return " ".join(words) + " ", offsets


def _slice(rng: random.Random, count: int, bits: int) -> str:
    """`count` consecutive words of the corpus from a random one."""
    text, offsets = corpus(bits)
    first = rng.getrandbits(bits)
    return text[offsets[first] : offsets[first + count] - 1]


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


def _paragraph(rng: random.Random, byte: Callable[[], int], bits: int) -> tuple[str, str, bool]:
    """1-6 sentences: (Markdown, HTML, marked up?). Most sentences are a slice of the
    corpus, capitalized and ended; a comma or markup needs the words apart."""
    text, offsets = corpus(bits)
    draw = rng.getrandbits
    markdown: list[str] = []
    html: list[str] = []
    marked = False
    for _ in range(SENTENCES[byte()]):
        length = SENTENCE_WORDS[byte()]
        first = draw(bits)
        sentence = text[offsets[first] : offsets[first + length] - 1]
        ending = ENDINGS[byte()]
        comma = length > 8 and byte() < COMMA_BELOW
        if length >= 4 and byte() < MARKUP_BELOW:
            sentence_md, sentence_html = _marked(sentence, ending, comma, byte)
            markdown.append(sentence_md)
            html.append(sentence_html)
            marked = True
            continue
        if comma:
            words = sentence.split(" ")
            words[length // 2] += ","
            sentence = " ".join(words)
        sentence = sentence.capitalize() + ending  # the words are lower case
        markdown.append(sentence)
        html.append(sentence)
    return " ".join(markdown), " ".join(html), marked


def _marked(sentence: str, ending: str, comma: bool, byte: Callable[[], int]) -> tuple[str, str]:
    """A sentence with a word in *emphasis*, **strong** or `code`, or two in a link."""
    words = sentence.split(" ")
    length = len(words)
    words[0] = words[0].capitalize()
    words[-1] += ending
    if comma:
        words[length // 2] += ","
    markdown = list(words)
    at = 1 + byte() % (length - 3)
    if words[at][-1] != "," and words[at + 1][-1] != ",":
        markdown[at], words[at], markdown[at + 1], words[at + 1] = _markup(
            words[at], words[at + 1], byte(), SITES[byte() % len(SITES)]
        )
    return " ".join(markdown), " ".join(words)


def _items(
    rng: random.Random, byte: Callable[[], int], kind: str, bits: int
) -> tuple[str, str, list[str]]:
    items = [_slice(rng, ITEM_WORDS[byte()], bits).capitalize() for _ in range(ITEMS[byte()])]
    if kind == "ol":
        markdown = "\n".join(f"{n}. {item}" for n, item in enumerate(items, 1))
    else:
        markdown = "\n".join(f"- {item}" for item in items)
    html = "".join(f"<li>{item}</li>\n" for item in items)
    return markdown, f"<{kind}>\n{html}</{kind}>\n", items


def body(rng: random.Random, bits: int = CORPUS_BITS) -> tuple[str, str, str, str]:
    """A post's Markdown, its HTML, its excerpt and its text (`text_of`: every block's words
    on a line of its own, no markup). It always opens with a paragraph (the excerpt is the
    first paragraph's text)."""
    byte = iter(rng.randbytes(DECISION_BYTES)).__next__
    text, text_html, marked = _paragraph(rng, byte, bits)
    plain = _TAG.sub("", text_html) if marked else text_html
    excerpt = shorten(plain, EXCERPT_CHARS)
    markdown = [text]
    html = [f"<p>{text_html}</p>\n"]
    lines = [plain]
    for _ in range(1, PARAGRAPHS[byte()]):
        roll = byte()
        if roll < LIST_BELOW:
            kind = "ol" if roll < LIST_BELOW // 3 else "ul"
            block, block_html, items = _items(rng, byte, kind, bits)
            markdown.append(block)
            html.append(block_html)
            lines.extend(items)
        elif roll < HEADING_BELOW:
            heading = _slice(rng, HEADING_WORDS[byte()], bits).capitalize()
            # A `##` in the body is an <h2> on the page: the title is the page's <h1>, and
            # the renderer starts the body's outline at <h2> (every heading here is a `##`).
            markdown.append(f"## {heading}")
            html.append(f"<h2>{heading}</h2>\n")
            lines.append(heading)
        text, text_html, marked = _paragraph(rng, byte, bits)
        markdown.append(text)
        html.append(f"<p>{text_html}</p>\n")
        lines.append(_TAG.sub("", text_html) if marked else text_html)
    return "\n\n".join(markdown), "".join(html), excerpt, "\n".join(lines)


def title(rng: random.Random, bits: int = CORPUS_BITS) -> tuple[str, str]:
    """A title of 3-12 words (fewer when they would not fit the column) and its slug."""
    count, question = rng.randbytes(2)
    words = _slice(rng, TITLE_WORDS[count], bits)
    while len(words) >= MAX_TITLE_CHARS and words.count(" ") > 2:
        words = words.rsplit(" ", 1)[0]
    text = words.capitalize()
    slug = words.replace(" ", "-")
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


def post_text(rng: random.Random, bits: int = CORPUS_BITS) -> Text:
    """A post, its sentences sliced from the corpus of 2**bits words."""
    heading, slug = title(rng, bits)
    content, content_html, excerpt, body_text = body(rng, bits)
    return Text(heading, slug, content, content_html, excerpt, body_text, tags(rng))
