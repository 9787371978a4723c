"""Bare URLs become exactly the links they became with linkify-it's own pretest: the quicker
one (fastblog.markup.QuickLinkifyIt) only rules out sooner the texts that hold none. Checked
three ways: the premises of its rule for every code point, its answers against linkify-it's
on generated text, and whole renders (posts and comments) against renders with a plain
LinkifyIt."""

import random
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from linkify_it import LinkifyIt

from fastblog import markup
from fastblog.markup import QuickLinkifyIt, render_lite
from fastblog.posts import markdown
from fastblog.posts.markdown import render
from fastblog.seed.prose import corpus_bits, post_text

DEMO_POSTS = Path(markdown.__file__).parent.parent / "seed" / "demo"
EVERY_CODE_POINT = "".join(map(chr, range(sys.maxunicode + 1)))
ORIGINAL = LinkifyIt()
QUICK = QuickLinkifyIt()

# Pieces that make or almost make a link, in the cases and scripts IGNORECASE folds together
# (U+017F is a long s, U+212A the Kelvin sign, U+0130 and U+0131 the Turkish i's).
PIECES = [
    *("http:", "HTTPS:", "hTtP://", "ftp:", "FTP://", "mailto:", "MAILTO:", "//", "/", ":", "@"),
    *("www.", "WWW.", "wWw.", "ww.", "www", "localhost", "LOCALHOST", "LocalHo\u017ft"),
    *(".com", ".COM", ".Com", ".org", ".рф", ".РФ", ".xn--p1ai", ".XN--P1AI", ".\u017fhop"),
    *(".1", ".12.", ".123.", "1.2.3.4", "192.168.0.1", ".\u0663.", ".\uff13", "..", ". "),
    *(".", ".-", "example", "EXAMPLE", "user", "a.b", "x_y", "_", "-", "localhos", ".io"),
    *("\u0130", "\u0131", "\u017f", "\u212a", "ß", "\ufb06", "\u3002", "\uff5c", "😀"),
    *(" ", "\n", "\t", "\u00a0", "\u3000", "<", ">", "(", ")", "[", "]", "`", "*", "\\"),
    *("&#46;", "&amp;", '"', "'", "!", "?", ",", ";", "e\u0301", "\u200b"),
    *("Ma\u0130lto:", "HTTP\u017f:", "tO:", "Ps:", "and/or", "a:b", "3.5", "10.25"),
]
TRICKY = [
    "Plain prose with no address at all. Another sentence, and one more!",
    "See https://example.com/path?q=1#frag, then stop.",
    "xhttp://example.com and _http://example.com and <http://example.com>",
    "run it on localhost, or LOCALHO\u017fT, port 8000",
    "write to someone@example.com or (me@ex.org).",
    "www. alone, WWW.Example.COM, www.рф",
    "ip 10.0.0.1 and 1.2.3 and 3.14 and version 3.12.1",
    "a file.txt, a site.io, a name.Museum, a domain.\u017fhop",
    "escaped http\\://example.com and example\\.com and www&#46;example&#46;com",
    "`https://example.com` in code, [text](https://example.com) in a link",
    "# Heading with example.org\n\n| a | b.com |\n|---|---|\n| c@d.ef | ftp://x.y |",
    "Ends with a dot.\nNext line .com\n.org",
    "fullwidth \uff5cexample.com\uff5c and \u3002example.com\u3002",
    "e.g. i.e. a.m. U.S. Node.js .NET",
    "Note: a colon in prose, and/or 3.5 or 10.25 in numbers: none of them a link.",
]
UNICODE_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]) | st.sampled_from(".:/@wW"),
    max_size=30,
)
TEXTS = st.lists(st.sampled_from(PIECES) | UNICODE_TEXT, max_size=14).map("".join)


def test_the_rule_is_about_the_pattern_it_was_written_for() -> None:
    """The premises below name linkify-it's schemas and its pattern's shape: an upgrade that
    changed them must have the rule checked again."""
    names = [name for name, schema in QUICK._compiled.items() if name and schema]
    assert sorted(names) == sorted(["http:", "https:", "ftp:", "//", "mailto:"])
    host_test = (
        "localhost|www\\.|\\.\\d{1,3}\\.|(?:\\.(?:"
        + QUICK.re["src_tlds"]
        + ")(?:"
        + QUICK.re["src_ZPCc"]
        + "|>|$))"
    )
    assert QUICK.re["host_fuzzy_test"] == host_test
    schema_test = QUICK.re["schema_test"]
    assert schema_test.endswith("(http:|https:|ftp:|//|mailto:)")
    assert QUICK.re["pretest"] == "(" + schema_test + ")|(" + host_test + ")|@"
    assert QUICK.re["pretest"] == ORIGINAL.re["pretest"]


def _ignorecase_matches(character: str) -> set[str]:
    return set(re.findall(re.escape(character), EVERY_CODE_POINT, re.IGNORECASE))


def test_ignorecase_takes_no_other_character_for_the_rules_punctuation() -> None:
    for character in ":/@.":
        assert _ignorecase_matches(character) == {character}


def test_every_character_taken_for_a_letter_of_localhost_case_folds_to_it() -> None:
    for letter in set("localhost"):
        matches = _ignorecase_matches(letter)
        assert {m.casefold() for m in matches} == {letter}, matches


def test_every_character_taken_for_a_tlds_first_letter_is_a_word_character_not_a_digit() -> None:
    firsts = {tld[0] for tld in QUICK.re["src_tlds"].split("|")}
    assert all(first.isalpha() for first in firsts)  # each alternative starts with a letter
    letters = set(re.findall(r"[^\W\d]", EVERY_CODE_POINT))  # word characters but digits
    for first in firsts:
        matches = _ignorecase_matches(first)
        assert matches <= letters, matches - letters


def test_the_tricky_cases_get_linkify_its_answers() -> None:
    for text in TRICKY + PIECES:
        assert QUICK.pretest(text) == ORIGINAL.pretest(text), text
        assert QUICK.test(text) == ORIGINAL.test(text), text
    assert {QUICK.pretest(text) for text in TRICKY} == {True, False}  # both answers are seen


@settings(max_examples=500, deadline=None)
@given(text=TEXTS)
def test_any_text_gets_linkify_its_answers(text: str) -> None:
    assert QUICK.pretest(text) == ORIGINAL.pretest(text)
    assert QUICK.test(text) == ORIGINAL.test(text)


@contextmanager
def linkify_its_own_pretest() -> Iterator[None]:
    """Both renderers' parsers with a plain LinkifyIt, as they were before."""
    with pytest.MonkeyPatch.context() as patch:
        for parser in (markdown._parser(False), markdown._parser(True), markup._parser()):
            patch.setattr(parser, "linkify", LinkifyIt())
        yield


def _posts() -> list[str]:
    rng = random.Random(11)
    seeded = [post_text(rng, corpus_bits(1_000)).content for _ in range(20)]
    demo = [path.read_text() for path in sorted(DEMO_POSTS.glob("*.md"))]
    return [*demo, *seeded, *TRICKY, "A few words of prose. " * 200]


def _everything_rendered(posts: list[str], comments: list[str]) -> list[object]:
    """What pages show of each: a post's HTML, excerpt and searched text (also with the
    line breaks of posts written before Markdown), and each comment's HTML."""
    return [
        *(render(post) for post in posts),
        *(render(post, breaks=True) for post in posts),
        *(render_lite(comment) for comment in comments),
    ]


def test_posts_and_comments_render_as_with_linkify_its_pretest() -> None:
    posts = _posts()
    comments = [*TRICKY, *(post[:1_000] for post in posts)]
    quick = _everything_rendered(posts, comments)
    with linkify_its_own_pretest():
        assert _everything_rendered(posts, comments) == quick
    assert sum(str(rendered).count("<a ") for rendered in quick) > 50  # links were made


BLOCKS = st.sampled_from(["\n\n", "\n", "- ", "> ", "## ", "**", "_", "| a | b |\n|---|---|\n"])


@settings(max_examples=150, deadline=None)
@given(source=st.lists(TEXTS | BLOCKS, max_size=12).map("".join))
def test_any_source_renders_as_with_linkify_its_pretest(source: str) -> None:
    quick = _everything_rendered([source], [source])
    with linkify_its_own_pretest():
        assert _everything_rendered([source], [source]) == quick
