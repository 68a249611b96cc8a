"""Token index of listed names: which names a party name resembles, and how much; pure.

A name is a bag of words, each weighed by how distinctive it is:

* across the loaded list, by inverse document frequency: ``ln(1 + N / df)`` with N entries and
  df the entries using the word (a word the list has never seen counts as used once);
* by its kind (`name_words`): generic words, places and stop words weigh ``KIND_FACTOR`` of
  that, so they barely count beside a distinctive word, yet still decide between names made
  only of them. A listed person's place words weigh in full ("Jordan", "Georgia" and
  "Santiago" are names of people too). Vessels and aircraft get no discount at all: "Nova
  Shipping" is not the vessel NOVA.

A party's word matches a listed word when equal or within ``TOKEN_MIN`` similarity (typos),
and up to ``MAX_RUN`` adjacent words match one word written together ("Hik Vision",
"Aero-Caribbean" vs "AEROCARIBBEAN"), either way round. Per listed name:

* coverage of the listed name: its matched weight over its total weight;
* coverage of the party name: its words matched by *any* name or alias of the same entry,
  over its total weight (a word the entry itself uses elsewhere is no stranger to it);
* score = 100 x the smaller of the two.

So a distinctive part plus or minus generic words and places scores in the high 90s, while a
name sharing only generic words, or missing a distinctive word, scores low.

Only names sharing a word with the heaviest words of the party name are scored: words that
together carry less than (100 - cutoff) % of its weight cannot lift a name to the cutoff.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from workflows.rules.name_words import WordKind, expand, word_kinds
from workflows.rules.similarity import deletions, indel_ratio

KIND_FACTOR: dict[WordKind, float] = {
    WordKind.DISTINCTIVE: 1.0,
    WordKind.GENERIC: 0.01,
    WordKind.PLACE: 0.01,
    WordKind.STOP: 0.001,
}
PERSON_FACTOR: dict[WordKind, float] = KIND_FACTOR | {WordKind.PLACE: 1.0}
"""A listed person's name: place words are part of it."""
PLAIN_FACTOR: dict[WordKind, float] = dict.fromkeys(WordKind, 1.0) | {WordKind.STOP: 0.001}
"""Vessels and aircraft: only stop words are discounted."""


class EntryKind(Enum):
    """What a listed entry is, for how its words and a party's are weighed against it."""

    ENTITY = "entity"
    PERSON = "person"
    PLAIN = "plain"
    """A vessel or an aircraft."""


_LISTED_FACTOR = {
    EntryKind.ENTITY: KIND_FACTOR,
    EntryKind.PERSON: PERSON_FACTOR,
    EntryKind.PLAIN: PLAIN_FACTOR,
}
TOKEN_MIN = 0.8
"""Two different words match at their Indel similarity when it is at least this: one typo in
a word of three letters or more ("am" vs "sam" 0.8), never in two ("ZTE" vs "ZTC" is 0.67)."""
MAX_RUN = 3
"""At most this many adjacent words are joined to match one word written together."""

# Where a word or run of words is, packed in one int to keep the index small:
# name number << 12 | first word << 6 | last word + 1. Words after the 63rd are not indexed.
_SPAN_BITS = 6
_MAX_WORDS = (1 << _SPAN_BITS) - 1
_Postings = tuple[int, ...]
# (posting, first and last + 1 party word, similarity)
_Match = tuple[int, int, int, float]


@dataclass(frozen=True, slots=True)
class IndexedName:
    """One normalised name or alias of an entry, with its word weights."""

    entry: int
    tokens: tuple[str, ...]
    weights: tuple[float, ...]
    total: float


@dataclass(frozen=True, slots=True)
class _Party:
    """The party name as each kind of entry sees it."""

    tokens: Sequence[str]
    weights: tuple[float, ...]
    plain: tuple[float, ...]


class NameIndex:
    """Words of every listed name, their weights, and where each word (or run of words) is."""

    def __init__(
        self, names: Sequence[tuple[int, tuple[str, ...]]], kinds: Mapping[int, EntryKind]
    ) -> None:
        """`names`: (entry number, words) per name; `kinds`: entries that are no entity."""
        self._kinds = kinds
        self._plain = frozenset(e for e, kind in kinds.items() if kind is EntryKind.PLAIN)
        names = [(entry, expand(tokens)) for entry, tokens in names]
        words_of: dict[int, set[str]] = {}
        for entry, tokens in names:
            words_of.setdefault(entry, set()).update(tokens)
        df: dict[str, int] = {}
        for words in words_of.values():
            for word in words:
                df[word] = df.get(word, 0) + 1
        count = max(len(words_of), 1)
        self._idf = {word: math.log(1 + count / used) for word, used in df.items()}
        self._unknown = math.log(1 + count)
        self.names = [self._indexed(entry, tokens) for entry, tokens in names]
        self._entry_of = [entry for entry, _ in names]
        self._postings = _postings(names)
        self._near = _near(df)

    def _indexed(self, entry: int, tokens: tuple[str, ...]) -> IndexedName:
        factors = _LISTED_FACTOR[self._kinds.get(entry, EntryKind.ENTITY)]
        weights = self._weigh(tokens, factors)
        return IndexedName(entry, tokens, weights, sum(weights))

    def _weigh(self, tokens: Sequence[str], factors: dict[WordKind, float]) -> tuple[float, ...]:
        return tuple(
            self._idf.get(token, self._unknown) * factors[kind]
            for token, kind in zip(tokens, word_kinds(tokens), strict=True)
        )

    def best_per_entry(self, tokens: Sequence[str], cutoff: float) -> dict[int, tuple[float, int]]:
        """Entry number -> (score, name number) of its best name, for scores >= `cutoff`."""
        tokens = expand(tokens)
        party = _Party(tokens, self._weigh(tokens, KIND_FACTOR), self._weigh(tokens, PLAIN_FACTOR))
        best: dict[int, tuple[float, int]] = {}
        for entry, matches in self._candidates(party, cutoff).items():
            found = self._score(entry, matches, party, cutoff)
            if found is not None:
                best[entry] = found
        return best

    def _candidates(self, party: _Party, cutoff: float) -> dict[int, list[_Match]]:
        found = [
            (first, last, similarity, postings)
            for key, first, last in _runs(party.tokens)
            for similarity, postings in self._lookup(key, single=last - first == 1)
        ]
        heavy = _heavy(party.weights, cutoff) | _heavy(party.plain, cutoff)
        entry_of = self._entry_of
        shift = 2 * _SPAN_BITS
        candidates = {
            entry_of[posting >> shift]
            for first, last, _, postings in found
            if not heavy.isdisjoint(range(first, last))
            for posting in postings
        }
        by_entry: dict[int, list[_Match]] = {}
        for first, last, similarity, postings in found:
            for posting in postings:
                entry = entry_of[posting >> shift]
                if entry in candidates:
                    by_entry.setdefault(entry, []).append((posting, first, last, similarity))
        return by_entry

    def _lookup(self, key: str, *, single: bool) -> Iterable[tuple[float, _Postings]]:
        exact = self._postings.get(key)
        if exact:
            yield 1.0, exact
        if single and len(key) >= 2:
            for word, similarity in self._similar(key):
                yield similarity, self._postings[word]

    def _similar(self, word: str) -> Iterable[tuple[str, float]]:
        """Listed words one edit or so from `word` (not `word` itself), with their similarity."""
        seen = {word}
        for key in {word, *deletions(word)}:
            near = self._near.get(key, ())
            for other in (near,) if isinstance(near, str) else near:
                if other not in seen:
                    seen.add(other)
                    similarity = indel_ratio(word, other)
                    if similarity >= TOKEN_MIN:
                        yield other, similarity

    def _score(
        self, entry: int, matches: list[_Match], party: _Party, cutoff: float
    ) -> tuple[float, int] | None:
        weights = party.plain if entry in self._plain else party.weights
        matched = [0.0] * len(weights)
        listed: dict[int, list[float]] = {}
        for posting, first, last, similarity in matches:
            number, start, stop = _unpack(posting)
            for i in range(first, last):
                matched[i] = max(matched[i], similarity)
            seen = listed.setdefault(number, [0.0] * len(self.names[number].tokens))
            for i in range(start, stop):
                seen[i] = max(seen[i], similarity)
        party_cover = _coverage(weights, matched, sum(weights))
        best: tuple[float, int] | None = None
        for number, seen in listed.items():
            name = self.names[number]
            score = 100 * min(party_cover, _coverage(name.weights, seen, name.total))
            if score >= cutoff and (best is None or score > best[0]):
                best = (score, number)
        return best


def _heavy(weights: Sequence[float], cutoff: float) -> set[int]:
    """The heaviest words a name at `cutoff` must share: the rest weigh too little to reach it."""
    order = sorted(range(len(weights)), key=lambda i: -weights[i])
    total = sum(weights)
    heavy: set[int] = set()
    carried = 0.0
    for i in order:
        if total and carried > total * (1 - cutoff / 100):
            break
        heavy.add(i)
        carried += weights[i]
    return heavy


def _runs(tokens: Sequence[str]) -> Iterable[tuple[str, int, int]]:
    count = min(len(tokens), _MAX_WORDS)
    for start in range(count):
        for stop in range(start + 1, min(start + MAX_RUN, count) + 1):
            yield "".join(tokens[start:stop]), start, stop


def _postings(names: Sequence[tuple[int, tuple[str, ...]]]) -> dict[str, _Postings]:
    """Every word and run of words of every name -> where it is."""
    found: dict[str, list[int]] = {}
    for number, (_, tokens) in enumerate(names):
        for key, start, stop in _runs(tokens):
            packed = (number << 2 * _SPAN_BITS) | (start << _SPAN_BITS) | stop
            found.setdefault(key, []).append(packed)
    return {key: tuple(postings) for key, postings in found.items()}


def _unpack(posting: int) -> tuple[int, int, int]:
    mask = (1 << _SPAN_BITS) - 1
    return posting >> 2 * _SPAN_BITS, (posting >> _SPAN_BITS) & mask, posting & mask


def _near(words: Iterable[str]) -> dict[str, str | tuple[str, ...]]:
    """Each word and each of its deletions -> the words it comes from (a lone word as is)."""
    near: dict[str, list[str]] = {}
    for word in words:
        if len(word) >= 2:
            for key in {word, *deletions(word)}:
                near.setdefault(key, []).append(word)
    return {key: found[0] if len(found) == 1 else tuple(found) for key, found in near.items()}


def _coverage(weights: Sequence[float], matched: Sequence[float], total: float) -> float:
    return sum(w * m for w, m in zip(weights, matched, strict=True)) / total if total else 0.0
