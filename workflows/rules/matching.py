"""Matching party names against screening-list entries; pure, standard library only.

Both names are normalised first (`normalize_name`: case, accents, punctuation and legal forms
such as "Co., Ltd." go), then compared as bags of words weighted by how distinctive each word
is across the loaded list (`name_index`): generic words ("Technology", "Group"), places
("Beijing", "Hong Kong") and stop words count for almost nothing beside a distinctive word, so
"SenseTime" hits "Beijing Sensetime Technology Development Co., Ltd." and "Beijing Technology
Development Co." does not. Words match through typos and through spacing ("Hik Vision"),
in any order. A party country found among the entry's countries adds ``COUNTRY_BONUS``; a
different or unknown country subtracts nothing, so it can never hide an exact name hit.
A listed person's place words count in full; vessels and aircraft get no discount at all.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence

from schemas.orders import ScreeningHit
from schemas.screening import ListedParty
from workflows.rules.name_index import EntryKind, NameIndex

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

ENTRY_KINDS: dict[str, EntryKind] = {
    "individual": EntryKind.PERSON,
    "vessel": EntryKind.PLAIN,
    "aircraft": EntryKind.PLAIN,
}
"""Entry types (case-insensitive) whose names are no company names; any other is an entity."""

# "S.A." must become "sa" and "QAR'AWI" "qarawi", not "s a" / "qar awi": these join letters.
_JOINERS = frozenset(".'’`´")
_PARENS = re.compile(r"\([^()]*\)")


def _phrases(words: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    return tuple(sorted((tuple(w.split()) for w in words), key=len, reverse=True))


_SUFFIX_PHRASES = _phrases(LEGAL_SUFFIXES)
_PREFIX_PHRASES = _phrases(LEGAL_PREFIXES)
_SUFFIX_ENDS = frozenset(phrase[-1] for phrase in _SUFFIX_PHRASES)
_PREFIX_STARTS = frozenset(phrase[0] for phrase in _PREFIX_PHRASES)


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
    while words and words[-1] in _SUFFIX_ENDS:
        phrase = next((p for p in _SUFFIX_PHRASES if tuple(words[-len(p) :]) == p), None)
        if phrase is None:
            break
        del words[-len(phrase) :]
    while words and words[0] in _PREFIX_STARTS:
        phrase = next((p for p in _PREFIX_PHRASES if tuple(words[: len(p)]) == p), None)
        if phrase is None:
            break
        del words[: len(phrase)]
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
        self._label: list[str] = []
        names: list[tuple[int, tuple[str, ...]]] = []
        for number, party in enumerate(self._parties):
            seen: set[str] = set()
            for label in (party.name, *party.alt_names):
                for variant in _variants(label):
                    plain = normalize_name(variant)
                    if plain not in seen:
                        seen.add(plain)
                        names.append((number, tuple(plain.split())))
                        self._label.append(label)
        kinds = {
            number: ENTRY_KINDS[party.entry_type.casefold()]
            for number, party in enumerate(self._parties)
            if party.entry_type.casefold() in ENTRY_KINDS
        }
        self._names = NameIndex(names, kinds)

    def __len__(self) -> int:
        """Number of names and aliases (with their variants) in the index."""
        return len(self._label)

    def screen(
        self, name: str, country: str | None, threshold: float, *, party_role: str = ""
    ) -> list[ScreeningHit]:
        """Hits for one party name, at most one per listed entry, best first.

        `party_role` ("purchaser", "end_user", ...) is copied into each hit's `party`, and the
        screened name into `party_name`, so the caller need not patch the hits.
        """
        if not name.strip():
            return []
        best = self._best_per_entry(name, max(threshold - COUNTRY_BONUS, 0.0))
        hits: list[ScreeningHit] = []
        for number, (raw, position) in best.items():
            party = self._parties[number]
            bonus = COUNTRY_BONUS if country and country.upper() in party.countries else 0.0
            score = round(min(100.0, raw + bonus), 2)
            if score >= threshold:
                hits.append(self._hit(party, position, score, party_role, name))
        hits.sort(key=lambda hit: (-hit.score, hit.entry_id))
        return hits

    def _best_per_entry(self, name: str, cutoff: float) -> dict[int, tuple[float, int]]:
        best: dict[int, tuple[float, int]] = {}
        for variant in {normalize_name(variant) for variant in _variants(name)}:
            found = self._names.best_per_entry(variant.split(), cutoff)
            for number, (score, position) in found.items():
                if number not in best or score > best[number][0]:
                    best[number] = (score, position)
        return best

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
