"""The query language readers know from web search, parsed once into terms, and written out
for each engine so that no user text ever reaches an engine as syntax.

- words: every one must match (`async python`);
- `"a quoted phrase"`: those words, in that order (an unclosed quote runs to the end);
- `-word` or `-"a phrase"`: posts with it are left out;
- `or` (any case) between two terms: either will do (`sqlite or postgres`);
- anything else is a plain word: `AND`, `NOT`, `NEAR(`, `title:`, `*` and lone punctuation
  mean nothing special. A "word" is what the index sees as one: letters, digits and marks
  of any script; `e-mail` is the phrase "e mail", `c++` is `c`.

Control characters (NUL included) are blanks. Past MAX_TERMS terms, the rest is ignored
(web search engines do the same), so a long query costs a bounded amount of work.
"""

import re
import unicodedata
from dataclasses import dataclass

MAX_QUERY_CHARS = 1_000
MAX_TERMS = 32

_TOKEN = re.compile(r'-?"[^"]*(?:"|$)|[^\s"]+')
_OR = "or"


def _is_word_character(character: str) -> bool:
    # What FTS5's unicode61 tokenizer (and PostgreSQL's parser) keep: letters, numbers,
    # marks. Nothing else can reach an engine: no quote, no operator, no private-use
    # character (snippet markers are made of those).
    return unicodedata.category(character)[0] in "LNM"


def _has_letter_or_digit(word: str) -> bool:
    # A lone combining mark is folded away by the index: a word of nothing.
    return any(unicodedata.category(c)[0] in "LN" for c in word)


def words_of(text: str) -> tuple[str, ...]:
    """The words of a term, as the index splits them."""
    cleaned = "".join(c if _is_word_character(c) else " " for c in text)
    return tuple(word for word in cleaned.split() if _has_letter_or_digit(word))


@dataclass(frozen=True, slots=True)
class Term:
    """A word or a phrase: words that must follow each other."""

    words: tuple[str, ...]
    quoted: bool = False

    def text(self) -> str:
        joined = " ".join(self.words)
        # A lone `or` is quoted, or it would read as the operator.
        return f'"{joined}"' if self.quoted or joined.lower() == _OR else joined


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """All `required` groups must match (a group: any of its terms), none of `excluded`."""

    required: tuple[tuple[Term, ...], ...] = ()
    excluded: tuple[Term, ...] = ()

    @property
    def is_empty(self) -> bool:
        """Nothing to look for (exclusions alone find nothing: there is no "everything")."""
        return not self.required

    def text(self) -> str:
        """The query written back in its own language, normalized."""
        groups = [" or ".join(term.text() for term in group) for group in self.required]
        return " ".join([*groups, *(f"-{term.text()}" for term in self.excluded)])


def _term(raw: str) -> tuple[Term | None, bool]:
    """The term a token stands for (None if it has no word), and whether it is excluded."""
    excluded = raw.startswith("-") and len(raw) > 1
    body = raw[1:] if excluded else raw
    quoted = body.startswith('"')
    words = words_of(body.strip('"'))
    if not words:
        return None, False
    return Term(words, quoted=quoted or len(words) > 1), excluded


def _tokens(text: str) -> list[str]:
    cleaned = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)
    return _TOKEN.findall(cleaned)


def parse(text: str) -> SearchQuery:
    """Any text becomes a query, never an error (an empty one, perhaps)."""
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    after_required = False  # the last term was one that must match: `or` may follow it
    joining = False  # the last token was that `or`
    count = 0
    for raw in _tokens(text):
        if count >= MAX_TERMS:
            break
        if raw.lower() == _OR and after_required and not joining:
            joining = True
            continue
        term, is_excluded = _term(raw)
        if term is None:
            continue
        count += 1
        if is_excluded:
            excluded.append(term)
        elif joining:
            groups[-1].append(term)
        else:
            groups.append([term])
        after_required = not is_excluded
        joining = False
    if joining:  # a trailing `or` is a word after all
        groups.append([Term((_OR,))])
    return SearchQuery(required=tuple(tuple(group) for group in groups), excluded=tuple(excluded))


# -- written out for each engine ---------------------------------------------------------


def _fts5_string(term: Term) -> str:
    # An FTS5 string: the only quoting FTS5 has; a '"' inside is doubled (words have none).
    return '"' + " ".join(term.words).replace('"', '""') + '"'


def to_fts5(query: SearchQuery, *, column: str | None = None) -> str:
    """An FTS5 MATCH expression in which every user term is a quoted string, so nothing a
    reader types is an operator, a column filter or a prefix query. With a `column` (a name
    of ours, never the user's), the whole query must match within that column."""
    groups = [
        "(" + " OR ".join(_fts5_string(term) for term in group) + ")" for group in query.required
    ]
    expression = "(" + " AND ".join(groups) + ")"
    for term in query.excluded:
        expression = f"({expression} NOT {_fts5_string(term)})"
    return expression if column is None else f"{{{column}}} : {expression}"


def _tsquery_phrase(term: Term) -> str:
    # Each word single-quoted (words hold no quote and no backslash): a lexeme, stemmed by
    # to_tsquery like the indexed text; a phrase's words must follow each other (<->).
    return "(" + " <-> ".join(f"'{word}'" for word in term.words) + ")"


def to_tsquery(query: SearchQuery) -> str:
    """The same query in PostgreSQL's tsquery syntax, for to_tsquery: every word a quoted
    lexeme. (websearch_to_tsquery reads `a or b c` as a | (b & c); the language here, like
    web search, means (a | b) & c, the same on both databases.)"""
    groups = [
        "(" + " | ".join(_tsquery_phrase(term) for term in group) + ")" for group in query.required
    ]
    return " & ".join([*groups, *(f"!{_tsquery_phrase(term)}" for term in query.excluded)])


# -- "did you mean" ----------------------------------------------------------------------


def _unquoted(groups: tuple[tuple[Term, ...], ...]) -> tuple[tuple[Term, ...], ...]:
    """A phrase's words as words of their own (an `or` group stays as it is)."""
    loose: list[tuple[Term, ...]] = []
    for group in groups:
        if len(group) == 1:
            loose.extend((Term((word,)),) for word in group[0].words)
        else:
            loose.append(group)
    return tuple(loose)


def relaxations(query: SearchQuery) -> list[SearchQuery]:
    """Looser queries to suggest when this one finds nothing, most like it first: without
    the quotes, then any one of the words. The exclusions stay in every one: `-word` says
    what the reader does not want, and a suggestion full of it would be no help."""
    loose = _unquoted(query.required)
    any_word = tuple(dict.fromkeys(Term((w,)) for g in loose for t in g for w in t.words))
    excluded = query.excluded
    candidates = [
        SearchQuery(required=loose, excluded=excluded),
        SearchQuery(required=(any_word,), excluded=excluded)
        if len(any_word) > 1
        else SearchQuery(),
    ]
    found: list[SearchQuery] = []
    for candidate in candidates:
        if not candidate.is_empty and candidate != query and candidate not in found:
            found.append(candidate)
    return found
