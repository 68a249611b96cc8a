"""Fuzzy matching of party names against screening-list entries; pure, no IO.

How a party name is scored against one listed name or alias (both normalised first):

* ``fuzz.ratio`` on the normalised strings (catches typos and spacing: "Aero-Caribbean" vs
  "Aerocaribbean"), and ``fuzz.ratio`` on the token-sorted strings, i.e. ``token_sort_ratio``
  (catches word order: "RIM, Ryong Nam" vs "Ryong Nam Rim"). The score is the higher of the two.
* A whole-word subset counts too, but only when the smaller side has at least two words:
  "Bank Melli" inside "Bank Melli Iran" scores 100 minus ``SUBSET_PENALTY`` per extra word.
  ``token_set_ratio`` is deliberately not used: it gives 100 to any one-word subset, so
  "Huawei Cloud Services" would be a perfect match for "Huawei Technologies Co., Ltd."
* A party country found among the entry's countries adds ``COUNTRY_BONUS``; a different or
  unknown country subtracts nothing, so it can never hide an exact name hit.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterator, Sequence

from rapidfuzz import fuzz, process

from schemas.orders import ScreeningHit
from schemas.screening import ListedParty

# Legal forms say nothing about who a party is: "Huawei Technologies Co., Ltd." and "HUAWEI
# TECHNOLOGIES COMPANY LIMITED" are one party. Written normalised (lower case, no punctuation;
# "S.A." is "sa"). Removed from the end of a name, longest phrase first, until none is left;
# a dangling "and" is what remains of "& Co." or "& Holding Co., Ltd.".
# fmt: off
LEGAL_SUFFIXES: tuple[str, ...] = (
    "co ltd", "co limited", "company limited", "company ltd", "corporation", "corp",
    "incorporated", "inc", "llc", "llp", "lp", "limited", "ltd", "gmbh", "ag", "kg", "sa",
    "sarl", "srl", "spa", "sl", "bv", "nv", "plc", "pte", "pty", "pvt", "sdn bhd", "bhd",
    "fze", "fzco", "fzc", "oy", "ab", "sa de cv", "de cv", "technologies",
    "technology co", "technology co ltd", "technology company limited", "group", "holdings",
    "holding", "jsc", "ojsc", "cjsc", "pjsc", "ooo", "oao", "zao", "pao", "company", "co",
    "and",
)

# Russian and other CIS registers put the legal form first: "OOO Vektor", "JSC SME Bank".
LEGAL_PREFIXES: tuple[str, ...] = (
    "jsc", "ojsc", "cjsc", "pjsc", "ooo", "oao", "zao", "pao", "ao", "tov", "llc",
    "joint stock company", "public joint stock company", "open joint stock company",
    "closed joint stock company", "limited liability company",
)
# fmt: on

COUNTRY_BONUS = 3.0
"""Added to the name score when the party's country is one of the entry's countries."""

SUBSET_PENALTY = 3.0
"""Taken off a whole-word subset match (100) for each word the two names do not share."""

# "S.A." must become "sa" and "QAR'AWI" "qarawi", not "s a" / "qar awi": these join letters.
_JOINERS = frozenset(".'’`´")
_PARENS = re.compile(r"\([^()]*\)")


def _phrases(words: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    return tuple(sorted((tuple(w.split()) for w in words), key=len, reverse=True))


_SUFFIX_PHRASES = _phrases(LEGAL_SUFFIXES)
_PREFIX_PHRASES = _phrases(LEGAL_PREFIXES)


def _tokens(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    out: list[str] = []
    for ch in folded:
        if unicodedata.combining(ch) or ch in _JOINERS:
            continue
        if ch.isalnum():
            out.append(ch)
        else:
            out.append(" and " if ch == "&" else " ")
    return "".join(out).split()


def _strip_legal_forms(tokens: list[str]) -> list[str]:
    words = list(tokens)
    stripped = True
    while stripped:
        stripped = False
        for phrase in _SUFFIX_PHRASES:
            if len(words) >= len(phrase) and tuple(words[-len(phrase) :]) == phrase:
                del words[-len(phrase) :]
                stripped = True
                break
    stripped = True
    while stripped:
        stripped = False
        for phrase in _PREFIX_PHRASES:
            if len(words) >= len(phrase) and tuple(words[: len(phrase)]) == phrase:
                del words[: len(phrase)]
                stripped = True
                break
    return words


def normalize_name(s: str) -> str:
    """Case-fold, drop accents, punctuation and legal forms; never empty for non-empty input."""
    tokens = _tokens(s)
    if not tokens:
        # Nothing alphanumeric ("???"): keep something, so the result is never empty.
        return " ".join(s.split()) or s
    # A name that is nothing but legal forms ("Group Limited") keeps all its words.
    return " ".join(_strip_legal_forms(tokens) or tokens)


def _variants(label: str) -> Iterator[str]:
    yield label
    if "(" in label:
        # "Academy of ... Technology (AASPT)": the name must also match without its acronym.
        yield _PARENS.sub(" ", label)
    if ";" in label:
        # ISN style "X Company; and any successor, sub-unit, or subsidiary thereof".
        yield label.split(";", 1)[0]


class ScreeningIndex:
    """Normalised names and aliases of one list snapshot, built once, screened many times."""

    def __init__(self, parties: Sequence[ListedParty]) -> None:
        self._parties = list(parties)
        self._plain: list[str] = []
        self._sorted: list[str] = []
        self._sizes: list[int] = []
        self._entry: list[int] = []
        self._label: list[str] = []
        self._postings: dict[str, list[int]] = {}
        for number, party in enumerate(self._parties):
            self._add(number, party)

    def _add(self, number: int, party: ListedParty) -> None:
        seen: set[str] = set()
        for label in (party.name, *party.alt_names):
            for variant in _variants(label):
                plain = normalize_name(variant)
                if plain in seen:
                    continue
                seen.add(plain)
                words = sorted(set(plain.split()))
                position = len(self._plain)
                self._plain.append(plain)
                self._sorted.append(" ".join(sorted(plain.split())))
                self._sizes.append(len(words))
                self._entry.append(number)
                self._label.append(label)
                for word in words:
                    self._postings.setdefault(word, []).append(position)

    def __len__(self) -> int:
        """Number of names and aliases (with their variants) in the index."""
        return len(self._plain)

    def screen(
        self, name: str, country: str | None, threshold: float, *, party_role: str = ""
    ) -> list[ScreeningHit]:
        """Hits for one party name, at most one per listed entry, best first.

        `party_role` ("purchaser", "end_user", ...) is copied into each hit's `party`, and the
        screened name into `party_name`, so the caller need not patch the hits.
        """
        if not name.strip():
            return []
        best = self._best_per_entry(normalize_name(name), max(threshold - COUNTRY_BONUS, 0.0))
        hits: list[ScreeningHit] = []
        for number, (raw, position) in best.items():
            party = self._parties[number]
            bonus = COUNTRY_BONUS if country and country.upper() in party.countries else 0.0
            score = round(min(100.0, raw + bonus), 2)
            if score >= threshold:
                hits.append(self._hit(party, position, score, party_role, name))
        hits.sort(key=lambda hit: (-hit.score, hit.entry_id))
        return hits

    def _best_per_entry(self, query: str, cutoff: float) -> dict[int, tuple[float, int]]:
        best: dict[int, tuple[float, int]] = {}
        for position, score in self._candidates(query, cutoff):
            number = self._entry[position]
            if number not in best or score > best[number][0]:
                best[number] = (score, position)
        return best

    def _candidates(self, query: str, cutoff: float) -> Iterator[tuple[int, float]]:
        for _, score, position in process.extract(
            query, self._plain, scorer=fuzz.ratio, score_cutoff=cutoff, limit=None
        ):
            yield position, score
        ordered = " ".join(sorted(query.split()))
        if ordered != query:
            for _, score, position in process.extract(
                ordered, self._sorted, scorer=fuzz.ratio, score_cutoff=cutoff, limit=None
            ):
                yield position, score
        yield from self._subsets(query, cutoff)

    def _subsets(self, query: str, cutoff: float) -> Iterator[tuple[int, float]]:
        words = set(query.split())
        if len(words) < 2:
            return
        shared: Counter[int] = Counter()
        for word in words:
            shared.update(self._postings.get(word, ()))
        for position, common in shared.items():
            size = self._sizes[position]
            if common < 2 or common not in (size, len(words)):
                continue
            score = 100.0 - SUBSET_PENALTY * (max(size, len(words)) - common)
            if score >= cutoff:
                yield position, score

    def _hit(
        self, party: ListedParty, position: int, score: float, role: str, name: str
    ) -> ScreeningHit:
        return ScreeningHit(
            party=role,
            party_name=name,
            entry_id=party.entry_id,
            entry_name=party.name,
            matched_name=self._label[position],
            source=party.source,
            score=score,
            programs="; ".join(party.programs),
            license_requirement=party.license_requirement,
            license_policy=party.license_policy,
        )
