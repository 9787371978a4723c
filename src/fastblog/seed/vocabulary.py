"""The words, tags and names demo posts are made of: deterministic, embedded, nothing downloaded.

The vocabulary is ~150 common English words (the glue of real sentences) followed by
pronounceable pseudo-words built from syllables, 8,000 in all. Word frequencies follow Zipf's
law (the word of rank r is used in proportion to 1/r), as in real text: a handful of words are
in nearly every post, ~150 in more than 10% of posts, 90% of them in under 2% (the rarest
in ~0.2%), which is what makes a search for a rare word cheap and one for a common word
expensive. Shorter
pseudo-words get the higher ranks (frequent words are short in real languages too).

Drawing words is the seed's hottest loop, so a draw is a lookup in a table of 65,536 slots
in which each word fills slots in proportion to its frequency (every word at least one):
two random bytes pick a slot.
"""

import random
from collections.abc import Sequence
from functools import cache
from typing import TypeVar

T = TypeVar("T")


def words(*lines: str) -> tuple[str, ...]:
    return tuple(" ".join(lines).split())


VOCABULARY_SIZE = 8_000
ZIPF_EXPONENT = 1.0
TABLE_BITS = 16
_PSEUDO_WORDS_SEED = 20261201

COMMON_WORDS = words(
    "the of and to a in is it that was for on are with as his they be at one have this",
    "from or had by not but what some we can out other were all there when up use your",
    "how said an each she which do their time if will way about many then them would",
    "like so these her long make thing see him two has look more day could go come did",
    "number no most people my over know water than call first who may down side been",
    "now find any new work part take get place made live where after back little only",
    "round man year came show every good me give our under name very through just form",
    "sentence great think say help low line differ turn cause much mean before move right",
    "boy old too same tell does set three want air well also play small end put home read",
)

# Repeats make the plain letters likelier than the clusters and digraphs.
_ONSETS = (
    *words("b c d f g h j k l m n p r s t v w z") * 3,
    *words("br ch cl dr fl gr kr pl pr sh st th tr"),
)
_VOWELS = (*words("a e i o u") * 4, *words("ai ea ie io ou"))
_CODAS = ("", "", "", "", "n", "r", "l", "s", "m", "nd", "rt", "st", "x", "k")


def _pseudo_word(rng: random.Random) -> str:
    syllables = rng.choices((1, 2, 3, 4), weights=(3, 10, 6, 1))[0]
    parts = []
    for index in range(syllables):
        onset = rng.choice(_ONSETS) if index or rng.random() < 0.85 else ""
        coda = rng.choice(_CODAS) if index == syllables - 1 else ""
        parts.append(onset + rng.choice(_VOWELS) + coda)
    return "".join(parts)


@cache
def vocabulary() -> tuple[str, ...]:
    """The words by rank, most frequent first: the common English words, then pseudo-words
    (shorter first, with some shuffling so that length is a tendency, not a rule)."""
    rng = random.Random(_PSEUDO_WORDS_SEED)
    words = dict.fromkeys(COMMON_WORDS)
    pseudo: dict[str, None] = {}
    while len(words) + len(pseudo) < VOCABULARY_SIZE:
        word = _pseudo_word(rng)
        if len(word) > 2 and word not in words:
            pseudo[word] = None
    ranked = sorted(pseudo, key=lambda word: len(word) + rng.random() * 4)
    return (*words, *ranked)


def zipf_weights(size: int, exponent: float = ZIPF_EXPONENT) -> list[float]:
    """Probability of each rank, 1/r^s normalized."""
    weights = [1 / rank**exponent for rank in range(1, size + 1)]
    total = sum(weights)
    return [weight / total for weight in weights]


def slot_table(items: Sequence[T], weights: Sequence[float], bits: int) -> tuple[T, ...]:
    """A table of 2**bits slots in which each item fills slots in proportion to its weight,
    each at least one; the top-ranked items absorb the rounding."""
    size = 1 << bits
    slots = [max(1, int(weight * size)) for weight in weights]
    extra = size - sum(slots)
    for index in range(abs(extra)):
        slots[index % 100] += 1 if extra > 0 else -1
    table: list[T] = []
    for item, count in zip(items, slots, strict=True):
        table.extend([item] * count)
    return tuple(table)


@cache
def word_table() -> tuple[str, ...]:
    words = vocabulary()
    return slot_table(words, zipf_weights(len(words)), TABLE_BITS)


def word_share(word: str) -> float:
    """How often a drawn word is `word` (its share of the table)."""
    return word_table().count(word) / (1 << TABLE_BITS)


# 244 tags, most used first: tag i is drawn in proportion to 1/(i+1)^1.1, so the top tags
# are on hundreds of thousands of a million posts and the last ones on a few hundred.
TAGS = words(
    "python life travel food programming books music photography web design",
    "javascript databases linux productivity writing cooking running history science art",
    "postgresql sqlite async performance testing security devops career coffee film",
    "rust go css html docker kubernetes cloud networking open-source tutorials",
    "gardening hiking cycling climbing yoga fitness health sleep parenting education",
    "philosophy physics astronomy biology chemistry mathematics statistics economics",
    "data-science machine-learning startups finance investing minimalism",
    "poetry fiction short-stories essays journaling reviews interviews podcasts",
    "jazz classical guitar piano vinyl concerts festivals theatre dance painting",
    "drawing sketching ceramics woodworking knitting sewing diy electronics robotics",
    "3d-printing arduino raspberry-pi home-automation smart-home gadgets mobile android",
    "ios macos windows terminal vim emacs git code-review refactoring architecture",
    "microservices api-design rest graphql http caching queues observability logging",
    "monitoring incidents on-call sre scaling benchmarks profiling compilers",
    "type-systems functional-programming haskell ocaml elixir erlang clojure scala",
    "kotlin java csharp dotnet cpp c zig wasm typescript react vue svelte",
    "accessibility ux typography color-theory branding marketing seo analytics",
    "remote-work teams management leadership hiring mentoring conferences meetups",
    "baking bread fermentation vegan recipes restaurants wine beer tea chocolate",
    "street-food japan italy mexico iceland norway portugal scotland road-trips",
    "camping sailing kayaking skiing surfing birdwatching nature wildlife oceans",
    "climate energy solar urbanism architecture-history trains cities maps",
    "languages linguistics translation etymology calligraphy libraries archives",
    "museums mythology folklore board-games chess puzzles video-games retro-computing",
    "pixel-art animation comics anime science-fiction fantasy horror mystery",
    "biography memoir self-improvement habits focus meditation stoicism",
    "psychology neuroscience medicine nutrition family friendship pets dogs cats",
    "weekly-notes til til-python til-sql links announcements meta",
)


@cache
def tag_table() -> tuple[str, ...]:
    return slot_table(TAGS, zipf_weights(len(TAGS), 1.1), 12)


FIRST_NAMES = words(
    "Ada Alan Amara Ana Anders Aiko Amir Anika Arjun Astrid Ben Bianca Bruno Carmen",
    "Chen Chiara Chloe Dario Daniel Dara Deepa Diego Elena Elif Emeka Emil Emma Ewa",
    "Farah Felix Fatima Finn Freya Gabriel Grace Hana Hamid Hugo Ines Ingrid Isaac",
    "Ivan Jamal Jana Javier Jin Joao Jonas Julia Kai Kamala Karim Kenji Kofi Lara",
    "Laila Leo Lena Liam Lina Luca Lucia Maja Malik Mara Marco Maria Mateo Maya Mei",
    "Mia Mikko Nadia Naledi Nils Nina Noah Noor Olga Omar Oskar Paula Pedro Priya",
    "Quinn Rafael Rania Ravi Rosa Ruth Sami Sara Sean Selin Sofia Sven Tariq Tessa",
    "Theo Tomas Uma Valentina Vera Viktor Wei Yara Yusuf Zainab Zoe Ximena Yuki",
)
LAST_NAMES = words(
    "Abbott Adeyemi Almeida Andersen Bauer Becker Bianchi Brennan Castillo Chen Costa",
    "Dahl Das Dubois Eriksson Evans Fernandes Fischer Fontaine Garcia Gomez Gupta",
    "Haddad Hansen Hartmann Hoffmann Horvat Ibrahim Ito Jensen Jovanovic Kaur Kim",
    "Kowalski Kruger Larsen Laurent Lee Lindqvist Lopez Mahlaba Martin Mendes Meyer",
    "Moreau Murphy Nakamura Navarro Nguyen Nielsen Novak Okafor Olsen Ortiz Park",
    "Patel Pereira Petrov Quinn Ramos Reyes Richter Rossi Russo Sato Schmidt Shah",
    "Silva Singh Sokolov Suzuki Tanaka Torres Varga Vogel Wagner Walsh Weber Wong",
    "Yamamoto Yilmaz Zhang Zimmermann Ndiaye Mensah Osei Rahman Haddad Kovacs Lund",
)
