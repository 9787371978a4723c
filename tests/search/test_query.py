"""The query language, parsed and written out for each engine: no user text is ever syntax."""

import pytest

from fastblog.search.query import MAX_TERMS, parse, relaxations, to_fts5, to_tsquery


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("async python", "async python"),
        ('"event loop" fast', '"event loop" fast'),
        ('"unclosed phrase', '"unclosed phrase"'),
        ("sqlite or postgres", "sqlite or postgres"),
        ("sqlite OR postgres Or mysql", "sqlite or postgres or mysql"),
        ('a -b -"c d"', 'a -b -"c d"'),
        ('salt -"pepper"', 'salt -"pepper"'),  # an exclusion keeps its quotes, as a term does
        ("-b or c", '"or" c -b'),  # no `or` after an excluded term
        ("or first", '"or" first'),
        ("last or", 'last "or"'),
        ("e-mail c++", '"e mail" c'),
        # A "word" with punctuation inside is the phrase of its parts, as the index splits it.
        ("NEAR( title:x AND *", 'NEAR "title x" AND'),
        ("nul\x00byte", "nul byte"),
        ("😀 !!! -", ""),
        ("fox !!! hound", "fox hound"),  # a token with no word is skipped, not the query's end
        ("\u0301", ""),
        ('Xerox "TAX"', 'Xerox "TAX"'),  # a word's own letters are never trimmed
    ],
)
def test_parsing(text: str, normalized: str) -> None:
    assert parse(text).text() == normalized


def test_exclusions_alone_find_nothing() -> None:
    assert parse("-spam").is_empty
    assert parse("").is_empty


def test_terms_past_the_limit_are_ignored() -> None:
    query = parse(" ".join(f"w{n}" for n in range(100)))

    assert len(query.required) == MAX_TERMS


def test_every_fts5_term_is_a_quoted_string() -> None:
    query = parse('NEAR(a b) title:c "d AND e" -f* g or h')

    assert to_fts5(query) == (
        '((("NEAR a") AND ("b") AND ("title c") AND ("d AND e") AND ("g" OR "h")) NOT "f")'
    )


def test_every_tsquery_word_is_a_quoted_lexeme() -> None:
    query = parse("a or 'b' \"c d\" -e\\f")

    assert to_tsquery(query) == "(('a') | ('b')) & (('c' <-> 'd')) & !('e' <-> 'f')"


def test_relaxations_loosen_one_thing_at_a_time_and_keep_the_exclusions() -> None:
    suggested = [q.text() for q in relaxations(parse('"red fox" -wolf -"grey dog"'))]

    assert suggested == ['red fox -wolf -"grey dog"', 'red or fox -wolf -"grey dog"']
