"""The helpers of name matching: string similarity and the kinds of words in company names."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflows.rules.name_words import WordKind, expand, word_kind, word_kinds
from workflows.rules.similarity import deletions, indel_ratio, lcs_length


def _lcs_table(a: str, b: str) -> int:
    """The textbook dynamic programme, to check the bit-parallel one against."""
    row = [0] * (len(b) + 1)
    for char in a:
        previous = 0
        for j, other in enumerate(b, start=1):
            previous, row[j] = row[j], previous + 1 if char == other else max(row[j], row[j - 1])
    return row[-1]


@given(st.text(alphabet="abcde", max_size=80), st.text(alphabet="abcde", max_size=20))
def test_bit_parallel_lcs_equals_the_table(a: str, b: str) -> None:
    assert lcs_length(a, b) == _lcs_table(a, b) == lcs_length(b, a)


@pytest.mark.parametrize(
    ("a", "b", "ratio"),
    [
        ("technology", "technology", 1.0),
        ("technolgy", "technology", 18 / 19),  # one letter left out
        ("am", "sam", 0.8),
        ("zte", "ztc", 4 / 6),  # one letter changed in a three-letter word: no match at 0.8
        ("huawei", "", 0.0),
        ("", "", 1.0),
    ],
)
def test_indel_ratio(a: str, b: str, ratio: float) -> None:
    assert indel_ratio(a, b) == pytest.approx(ratio)


def test_words_one_edit_apart_share_a_deletion() -> None:
    for a, b in [("sugon", "sugun"), ("hikvision", "hikvison"), ("dahua", "dauha")]:
        assert ({a} | deletions(a)) & ({b} | deletions(b))
    assert not ({"sugon"} | deletions("sugon")) & ({"sgunn"} | deletions("sgunn"))


@pytest.mark.parametrize(
    ("word", "kind"),
    [
        ("technology", WordKind.GENERIC),
        ("technolgy", WordKind.GENERIC),  # one typo in a long English word
        ("keji", WordKind.GENERIC),  # pinyin for "technology"
        ("zhongxing", WordKind.DISTINCTIVE),  # ZTE; one letter from pinyin "zhongxin", centre
        ("shenzhen", WordKind.PLACE),
        ("shenzen", WordKind.PLACE),
        ("datang", WordKind.DISTINCTIVE),  # a company, one letter from the city Datong
        ("japan", WordKind.PLACE),
        ("of", WordKind.STOP),
        ("sensetime", WordKind.DISTINCTIVE),
        ("huawei", WordKind.DISTINCTIVE),
    ],
)
def test_word_kind(word: str, kind: WordKind) -> None:
    assert word_kind(word) is kind


def test_places_of_several_words_only_as_a_whole() -> None:
    assert word_kinds(["huawei", "hong", "kong"]) == [WordKind.DISTINCTIVE, *[WordKind.PLACE] * 2]
    assert word_kinds(["kong", "hong"]) == [WordKind.DISTINCTIVE] * 2


def test_abbreviations_of_generic_words_are_written_out() -> None:
    assert expand(["harbin", "inst", "of", "tech"]) == ("harbin", "institute", "of", "technology")
    assert expand(("intl", "inspur")) == ("international", "inspur")
