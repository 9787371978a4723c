"""The seed's text: Zipf-distributed words, varied real Markdown, and derived fields equal to
what the app's own renderer makes of it."""

import random
import re
from collections import Counter
from datetime import UTC, datetime

import pytest

from fastblog.posts.markdown import render, slug_of
from fastblog.seed import generated
from fastblog.seed.prose import Text, post_text, title
from fastblog.seed.rows import Blog, chunk_rows
from fastblog.seed.vocabulary import TAGS, vocabulary

pytestmark = pytest.mark.anyio

WORD = re.compile(r"[a-z]+")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def texts(count: int, seed: int = 1) -> list[Text]:
    rng = random.Random(seed)
    return [post_text(rng) for _ in range(count)]


def words_of(text: Text) -> set[str]:
    """The words a reader sees: the title and the rendered text, tags aside."""
    visible = re.sub(r"<[^>]*>", " ", text.content_html)
    return set(WORD.findall(f"{text.title} {visible}".lower()))


def test_the_vocabulary_has_thousands_of_distinct_words() -> None:
    words = vocabulary()
    assert len(words) == len(set(words)) >= 5_000
    assert all(WORD.fullmatch(word) for word in words)


def test_word_frequencies_are_zipf_like_across_5000_posts() -> None:
    posts = texts(5_000)
    in_posts = Counter(word for post in posts for word in words_of(post))
    shares = {word: count / len(posts) for word, count in in_posts.items()}

    assert len(shares) >= 5_000, "thousands of distinct words are actually used"
    top_word, top_share = max(shares.items(), key=lambda item: item[1])
    assert top_share >= 0.10, (top_word, top_share)
    rare = sum(1 for word in vocabulary() if shares.get(word, 0) < 0.02)
    assert rare / len(vocabulary()) > 0.8, "most words are in under 2% of posts"
    # A long tail, not a cliff: words at every order of magnitude of frequency.
    for low, high in ((0.1, 1.01), (0.01, 0.1), (0.001, 0.01), (0.0, 0.001)):
        assert any(low <= share < high for share in shares.values()), (low, high)


def test_titles_and_bodies_vary_in_length_and_use_real_markdown() -> None:
    posts = texts(2_000)

    title_words = Counter(len(post.title.split()) for post in posts)
    assert min(title_words) == 3
    assert max(title_words) == 12
    assert all(len(post.title) <= 100 for post in posts)
    paragraphs = Counter(post.content_html.count("<p>") for post in posts)
    assert min(paragraphs) == 1
    assert max(paragraphs) == 8
    sentence_words = Counter(
        len(sentence.split())
        for post in posts[:200]
        for sentence in re.split(r"[.?!](?:\s|$)", re.sub(r"<[^>]*>", "", post.content_html))
        if sentence.strip()
    )
    assert min(sentence_words) <= 4
    assert max(sentence_words) >= 25
    html = "".join(post.content_html for post in posts)
    for element in ("<em>", "<strong>", "<code>", "<a href=", "<ul>", "<ol>", "<h2>"):
        share = sum(element in post.content_html for post in posts) / len(posts)
        assert 0.005 < share < 0.8, (element, share)
    assert "<" not in re.sub(r"</?(p|em|strong|code|a|ul|ol|li|h2)\b[^>]*>", "", html)


def test_tags_come_from_about_200_with_a_long_tail() -> None:
    posts = texts(5_000)
    per_post = Counter(len(post.tags) for post in posts)
    used = Counter(tag for post in posts for tag in post.tags)

    assert set(per_post) == {0, 1, 2, 3, 4, 5}
    assert all(len(set(post.tags)) == len(post.tags) for post in posts)
    assert 150 <= len(TAGS) == len(set(TAGS)) <= 250
    assert set(used) <= set(TAGS)
    ranked = [count for _, count in used.most_common()]
    assert ranked[0] > 20 * ranked[len(ranked) // 2] / 2, "the top tag is far more used"
    assert ranked[-1] < ranked[0] / 50, "and the tail is thin"


def test_the_generated_html_excerpt_text_and_slug_are_what_the_app_derives() -> None:
    """Exactly: render(content) gives byte for byte the seed's HTML, excerpt and text (what
    search indexes), and slug_of(title) its slug, on every post of a sample that includes
    every kind of markup."""
    posts = texts(600, seed=3)
    assert any("<a href=" in post.content_html for post in posts)
    assert any("<ol>" in post.content_html for post in posts)
    assert any(len(post.excerpt) > 290 for post in posts), "some excerpts are cut"

    for post in posts:
        rendered = render(post.content)
        assert rendered.html == post.content_html, post.content
        assert rendered.excerpt == post.excerpt, post.content
        assert rendered.text == post.body_text, post.content
        assert slug_of(post.title) == post.slug, post.title


def test_long_titles_get_the_slug_python_slugify_cuts() -> None:
    rng = random.Random(5)
    titles = [title(rng) for _ in range(20_000)]
    assert sum(len(slug) > 60 for _, slug in titles) > 10, "some slugs are long"

    for text, slug in titles:
        assert slug_of(text) == slug, text


def blog(rng_seed: int = 7, *, posts: int = 120, sqlite: bool = True) -> Blog:
    return Blog(
        rng_seed=rng_seed,
        posts=posts,
        first_post_id=1,
        user_ids=(3, 4, 9),
        tag_ids={tag: n for n, tag in enumerate(TAGS)},
        now=NOW,
        sqlite=sqlite,
        chunk_posts=40,
    )


def test_the_same_seed_gives_the_same_rows_and_another_seed_other_rows() -> None:
    assert chunk_rows(blog(), 1) == chunk_rows(blog(), 1)
    assert chunk_rows(blog(), 1) != chunk_rows(blog(), 2)
    assert chunk_rows(blog(8), 1)[0][0][1:] != chunk_rows(blog(), 1)[0][0][1:]


async def test_worker_processes_make_the_same_rows_as_this_process() -> None:
    in_process = [chunk_rows(blog(), chunk) for chunk in range(blog().chunks)]

    by_workers = [rows async for rows in generated(blog(), workers=2)]

    assert by_workers == in_process
    post_ids = [row[0] for posts, _ in by_workers for row in posts]
    assert post_ids == list(range(1, 121))


def test_dates_spread_over_years_with_a_few_drafts_and_scheduled_posts() -> None:
    many = Blog(**{**blog(posts=5_000, sqlite=False).__dict__, "chunk_posts": 5_000})
    posts, _ = chunk_rows(many, 0)
    published = [row[8] for row in posts if row[8] is not None]
    drafts = sum(row[7] == "draft" for row in posts)
    scheduled = sum(at > NOW for at in published)

    assert (max(published) - min(published)).days > 4 * 365
    assert 0.002 < drafts / len(posts) < 0.03
    assert 0 < scheduled / len(posts) < 0.01
    assert all(at.tzinfo is not None for at in published)
    edited = sum(row[9] > row[8] for row in posts if row[8] is not None and row[8] <= NOW)
    assert 0.05 < edited / len(posts) < 0.2
