"""The renderer on its own: what Markdown becomes, the excerpt, slugs in any script, tags."""

from typing import Any

import pytest

from fastblog.posts.markdown import (
    MAX_TAGS,
    InvalidTagError,
    normalize_tag,
    normalize_tags,
    render,
    renumber_headings,
    slug_of,
)
from tests.media.helpers import elements
from tests.posts.markup import read_markup


def test_commonmark_and_github_extensions() -> None:
    source = "\n".join(
        [
            "# Heading",
            "",
            "Some **bold**, _italic_, ~~struck~~ and `code`; see https://example.com.",
            "",
            "- one",
            "- two",
            "",
            "> quoted",
            "",
            "| a | b |",
            "|---|--:|",
            "| 1 | 2 |",
        ]
    )

    markup = read_markup(render(source).html)

    # The post's title is the page's <h1>: a heading in the body comes one level below.
    assert {"h2", "strong", "em", "s", "code", "ul", "li", "blockquote", "table", "td"} <= set(
        markup.tags
    )
    assert "h1" not in markup.tags
    assert markup.hrefs == ["https://example.com"]
    assert markup.rels == ["nofollow ugc noopener"]


def heading_levels(source: str) -> list[str]:
    return [
        tag for tag in read_markup(render(source).html).tags if tag[0] == "h" and tag[1:].isdigit()
    ]


@pytest.mark.parametrize(
    ("source", "levels"),
    [
        # The page's <h1> is the title: the author's first level becomes h2, whichever it is.
        ("# A\n\n## B\n\n## C\n\n# D", ["h2", "h3", "h3", "h2"]),
        ("## A\n\ntext\n\n## B", ["h2", "h2"]),
        ("### A\n\n#### B", ["h2", "h3"]),
        # A skipped level closes up: ## then #### is h2 then h3, and its siblings follow.
        ("## A\n\n#### B\n\n#### C\n\n##### D\n\n## E", ["h2", "h3", "h3", "h4", "h2"]),
        # A level above the first one is the top again, and what follows nests under it.
        ("## A\n\n# B\n\n### C", ["h2", "h2", "h3"]),
        ("# A\n\n### B\n\n## C\n\n### D", ["h2", "h3", "h3", "h4"]),
        # Setext headings are headings too; HTML stops at h6.
        ("A\n=\n\nB\n-", ["h2", "h3"]),
        ("# 1\n## 2\n### 3\n#### 4\n##### 5\n###### 6", ["h2", "h3", "h4", "h5", "h6", "h6"]),
    ],
)
def test_headings_start_at_h2_and_skip_no_level(source: str, levels: list[str]) -> None:
    assert heading_levels(source) == levels


@pytest.mark.parametrize(
    ("stored", "now"),
    [
        # As the renderer wrote them before: every heading one below the author's.
        ("<h3>A</h3>\n<p>x</p>\n<h3>B</h3>\n", "<h2>A</h2>\n<p>x</p>\n<h2>B</h2>\n"),
        ("<h2>A</h2>\n<h3>B</h3>\n<h2>C</h2>\n", "<h2>A</h2>\n<h3>B</h3>\n<h2>C</h2>\n"),
        ("<h3>A <em>b</em></h3>\n<h5>C</h5>\n", "<h2>A <em>b</em></h2>\n<h3>C</h3>\n"),
        # Code that shows a tag is escaped text, never a heading.
        (
            "<pre><code>&lt;h3&gt;</code></pre>\n<h4>D</h4>\n",
            "<pre><code>&lt;h3&gt;</code></pre>\n<h2>D</h2>\n",
        ),
        ("<p>No heading.</p>\n", "<p>No heading.</p>\n"),
    ],
)
def test_stored_html_is_renumbered_as_the_renderer_numbers_now(stored: str, now: str) -> None:
    assert renumber_headings(stored) == now


def test_renumbering_what_the_renderer_makes_now_changes_nothing() -> None:
    source = "## A\n\n#### B\n\n# C\n\n### D\n\n```html\n<h2>x</h2>\n```\n\n## E"
    html = render(source).html

    assert renumber_headings(html) == html


def test_a_heading_keeps_its_text_and_closes_with_its_own_tag() -> None:
    html = render("## One *two*\n\n#### Three").html

    assert html == "<h2>One <em>two</em></h2>\n<h3>Three</h3>\n"


def test_fenced_code_keeps_its_indentation_and_gets_pygments_classes() -> None:
    source = "```python\ndef f():\n    return 1\n```\n"

    html = render(source).html
    markup = read_markup(html)

    assert markup.text.strip("\n") == "def f():\n    return 1"
    assert "highlight" in markup.classes
    assert "k" in markup.classes  # Pygments' class for a keyword, styled by code.css


def test_a_code_block_in_an_unknown_language_is_plain_and_escaped() -> None:
    html = render("```nosuchlanguage\n<b>x</b>\n```").html

    assert read_markup(html).text.strip() == "<b>x</b>"
    assert "<b>" not in html


def test_raw_html_is_shown_as_text() -> None:
    html = render("<b>bold?</b> <script>alert(1)</script>").html

    markup = read_markup(html)
    assert markup.tags == ["p"]
    assert markup.text.strip() == "<b>bold?</b> <script>alert(1)</script>"


def test_single_line_breaks_are_kept_for_legacy_posts_only() -> None:
    assert "br" in read_markup(render("one\ntwo", breaks=True).html).tags
    assert "br" not in read_markup(render("one\ntwo").html).tags


def test_the_excerpt_is_the_first_paragraph_in_plain_text() -> None:
    source = "# Title\n\nFirst **paragraph** with [a link](https://x.org).\n\nSecond one."

    assert render(source).excerpt == "First paragraph with a link."


def test_a_long_excerpt_is_cut_at_a_word() -> None:
    excerpt = render("word " * 200).excerpt

    assert len(excerpt) <= 301
    assert excerpt.endswith("word…")


def test_a_post_without_a_paragraph_has_its_headings_and_code_as_excerpt() -> None:
    assert render("# A **bold** start\n\n    indented code\n").excerpt == (
        "A bold start indented code"
    )


def test_the_searched_text_is_each_block_on_a_line_without_markdown() -> None:
    text = render("# Title\n\nSome *text*.\n\n```\n  y = X\n```\n\n    indented\n").text

    assert text == "Title\nSome text.\n  y = X\nindented"


def test_inline_code_is_part_of_the_excerpt_and_of_the_searched_text() -> None:
    rendered = render("Use `pip install` now.")

    assert rendered.excerpt == rendered.text == "Use pip install now."


def test_a_hard_line_break_and_a_pictures_description_read_as_words() -> None:
    rendered = render("One  \ntwo, look: ![a cat](/c.png) asleep.")

    assert rendered.excerpt == rendered.text == "One two, look: a cat asleep."


def test_an_excerpt_is_cut_after_300_characters_at_a_word_or_else_anywhere() -> None:
    assert render("y" * 300).excerpt == "y" * 300  # exactly the limit: whole
    assert render("abcdefg " * 50).excerpt.endswith(" abcdefg…")
    assert render("x" * 400).excerpt == "x" * 300 + "…"  # one word: cut inside it


def test_an_excerpt_keeps_every_whole_word_that_fits_and_no_trailing_comma() -> None:
    assert render("abcdef " * 50).excerpt == ("abcdef " * 43).rstrip() + "…"  # 300: fits
    assert render("a " * 200).excerpt == ("a " * 150).rstrip() + "…"  # 301: does not
    assert render("abcdeX, " * 50).excerpt.endswith(" abcdeX…")


def test_a_post_of_code_only_has_an_excerpt_too() -> None:
    assert render("```\nprint(1)\n```").excerpt == "print(1)"


# Which pictures a post shows, and which it turns into a link (the page's CSP would block
# another site's picture; a data: URL is never a picture). The uploaded ones' figures are in
# tests/media/test_figures.py.
@pytest.mark.parametrize(
    ("src", "external_images", "shown"),
    [
        ("/static/cat.png", "link", True),  # a picture of this site, not uploaded
        ("cat.png", "link", True),
        ("/c?t=1:2", "link", True),  # a colon in the query is not a scheme
        ("/shot/12:30.png", "link", True),  # nor one after the scheme's place
        ("/albums//cat.png", "link", True),
        ("https://cats.example/cat.jpg", "link", False),
        ("//cats.example/cat.jpg", "link", False),  # another site, over the page's scheme
        ("data:image/png;base64,iVBORw0KGgo=", "link", False),
        ("https://cats.example/cat.jpg", "allow", True),
        ("//cats.example/cat.jpg", "allow", False),  # https only
        ("http://cats.example/cat.jpg", "allow", False),
    ],
)
def test_which_pictures_are_shown(src: str, external_images: Any, shown: bool) -> None:
    html = render(f"![A cat]({src})", external_images=external_images).html

    found = elements(html)
    if shown:
        assert [image["src"] for image in found.images] == [src]
        assert found.images[0]["alt"] == "A cat"
        assert found.links == []
    else:
        assert found.images == []
        assert [link.get("href") for link in found.links] == [
            None if src.startswith("data:") else src  # nh3 drops a data: href
        ]
        assert "A cat" in html


def test_a_picture_in_a_sentence_is_an_image_with_its_title() -> None:
    """Inline, a picture's title is its tooltip; only the first picture loads eagerly."""
    html = render('A cat ![Tom](/cat.png "The cat") sits.\n\nAnd ![Kit](/kit.png) too.').html

    assert html == (
        '<p>A cat <img src="/cat.png" alt="Tom" decoding="async" title="The cat"> sits.</p>\n'
        '<p>And <img src="/kit.png" alt="Kit" loading="lazy" decoding="async"> too.</p>\n'
    )


def test_a_picture_alone_is_a_figure_captioned_only_by_a_title() -> None:
    html = render('![Tom](/cat.png)\n\n![Kit](/kit.png "Kit asleep")').html

    assert html == (
        '<figure><img src="/cat.png" alt="Tom" decoding="async"></figure>\n'
        '<figure><img src="/kit.png" alt="Kit" loading="lazy" decoding="async">'
        "<figcaption>Kit asleep</figcaption></figure>\n"
    )


def test_another_sites_picture_alone_is_a_link_in_its_paragraph() -> None:
    html = render("![A cat](https://cats.example/cat.jpg)").html

    assert html == (
        '<p><a href="https://cats.example/cat.jpg" rel="nofollow ugc noopener">A cat</a></p>\n'
    )


def test_links_keep_only_web_and_mail_addresses() -> None:
    source = "[a](https://x.org) [b](mailto:a@x.org) [c](ftp://x.org/f) [d](tel:+123)"

    found = elements(render(source).html)
    assert [link.get("href") for link in found.links] == [
        "https://x.org",
        "mailto:a@x.org",
        None,
        None,
    ]


def test_a_tables_columns_keep_their_alignment() -> None:
    html = render("| a | b |\n|:--|--:|\n| 1 | 2 |").html

    assert '<td style="text-align:left">1</td>' in html
    assert '<td style="text-align:right">2</td>' in html


def test_a_picture_without_an_address_gets_none_made_up() -> None:
    """`![A cat]()`: an empty address, which a browser never fetches."""
    found = elements(render("![A cat]()").html)

    assert [(image["src"], image["alt"]) for image in found.images] == [("", "A cat")]


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Why async pays off", "why-async-pays-off"),
        ("Привет, мир", "privet-mir"),
        ("Γειά σου Κόσμε", "geia-sou-kosme"),  # noqa: RUF001 (Greek, on purpose)
        ("你好世界", "ni-hao-shi-jie"),
        ("!!!", "post"),
        ("Edit", "edit-post"),  # /posts/{id}/edit is the edit form
    ],
)
def test_slugs_are_readable_in_any_script(title: str, slug: str) -> None:
    assert slug_of(title) == slug


def test_a_slug_is_at_most_80_characters() -> None:
    assert len(slug_of("word " * 100)) <= 80


def test_a_long_titles_slug_is_cut_at_a_word() -> None:
    assert set(slug_of("Async " * 20).split("-")) == {"async"}


@pytest.mark.parametrize(
    ("raw", "tag"),
    [
        ("  Python ", "python"),
        ("Machine Learning", "machine-learning"),
        ("日本語", "日本語"),
        ("हिंदी", "हिंदी"),
        ("C-3PO", "c-3po"),
        ("x" * 30, "x" * 30),  # the longest a tag may be
    ],
)
def test_tags_are_normalized(raw: str, tag: str) -> None:
    assert normalize_tag(raw) == tag


@pytest.mark.parametrize("raw", ["", "   ", "a_b", "c++", "x" * 31, "<script>", "a.b", "tag\x00"])
def test_invalid_tags_are_refused(raw: str) -> None:
    with pytest.raises(InvalidTagError):
        normalize_tag(raw)


def test_a_long_tag_is_named_in_its_refusal_cut_at_40_characters() -> None:
    """A paragraph pasted into the tags field is named, not repeated whole."""
    with pytest.raises(InvalidTagError) as refused:
        normalize_tag("x" * 100)

    assert str(refused.value) == f"A tag has at most 30 characters: {'x' * 40!r}."


def test_duplicate_tags_count_once_and_six_are_too_many() -> None:
    assert normalize_tags(["Python", "python ", "web"]) == ["python", "web"]
    five = [f"tag{n}" for n in range(MAX_TAGS)]
    assert normalize_tags(five) == five
    with pytest.raises(InvalidTagError, match="at most 5"):
        normalize_tags([f"tag{n}" for n in range(MAX_TAGS + 1)])
