"""Name normalisation and fuzzy screening: what must hit, what must not, at the default 88.

The labelled table (listed entries, variants, clean look-alikes) is in `matching_cases.py`.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.rules.matching_cases import CHINESE_VARIANTS, LISTED, MUST_HIT, MUST_NOT_HIT
from workflows.rules.matching import COUNTRY_BONUS, ScreeningIndex, normalize_name

THRESHOLD = 88.0  # the default of settings.screening_threshold


@pytest.fixture(scope="module")
def index() -> ScreeningIndex:
    return ScreeningIndex(LISTED)


# (party name, entry it must hit, the listed name or alias it must report as matched)
@pytest.mark.parametrize(("party", "entry_id", "matched"), MUST_HIT)
def test_listed_name_variants_hit(
    index: ScreeningIndex, party: str, entry_id: str, matched: str
) -> None:
    hits = index.screen(party, None, THRESHOLD)
    assert hits, f"{party!r} should hit {entry_id}"
    assert hits[0].entry_id == entry_id
    assert hits[0].matched_name == matched


@pytest.mark.parametrize("party", MUST_NOT_HIT)
def test_clean_lookalikes_do_not_hit(index: ScreeningIndex, party: str) -> None:
    assert index.screen(party, "CN", THRESHOLD) == []


@pytest.mark.parametrize(("party", "entry_id"), CHINESE_VARIANTS)
def test_distinctive_part_with_or_without_generic_words_and_places_hits(
    index: ScreeningIndex, party: str, entry_id: str
) -> None:
    hits = index.screen(party, None, THRESHOLD)
    assert entry_id in [hit.entry_id for hit in hits], f"{party!r} should hit {entry_id}"


def test_generic_words_weigh_little_beside_a_distinctive_word(index: ScreeningIndex) -> None:
    # "Huawei" plus a trade and a legal form is a Huawei company (the Entity List names its
    # affiliates), a little below the listed name itself.
    [hit] = index.screen("Huawei Cloud Services GmbH", "DE", THRESHOLD)
    assert hit.entry_id == "huawei"
    assert 95 <= hit.score < 100
    # Only generic words and a place in common: far below the cutoff, not just under it.
    assert all(hit.score < 50 for hit in index.screen("Beijing Technology Development", "CN", 0))


def test_a_missing_distinctive_word_is_no_hit(index: ScreeningIndex) -> None:
    # "Moore" alone is half of what identifies "Moore Threads".
    scores = {hit.entry_id: hit.score for hit in index.screen("Moore Industries", None, 0)}
    assert scores["moore"] < 60


def test_vessels_get_no_generic_word_discount(index: ScreeningIndex) -> None:
    assert [hit.entry_id for hit in index.screen("NOVA", "IR", THRESHOLD)] == ["nova"]
    assert index.screen("Nova Shipping Trading Co., Ltd.", "IR", THRESHOLD) == []
    # The same words beside an entity's name are generic: "Sugon" is that entity.
    assert [hit.entry_id for hit in index.screen("Sugon Shipping Trading", "CN", THRESHOLD)] == [
        "sugon"
    ]


def test_a_listed_persons_place_words_count_in_full(index: ScreeningIndex) -> None:
    # "Santiago" is a city and a surname: without it this is another person.
    assert index.screen("Jorge Garcia", "MX", THRESHOLD) == []
    assert [hit.entry_id for hit in index.screen("Jorge Santiago Garcia", None, THRESHOLD)] == [
        "santiago"
    ]
    # A company named after the person, with a place and generic words, is still flagged.
    hits = index.screen("Jorge Santiago Garcia Trading Mexico S.A. de C.V.", None, THRESHOLD)
    assert [hit.entry_id for hit in hits] == ["santiago"]


def test_abbreviated_generic_words_are_written_out(index: ScreeningIndex) -> None:
    [hit] = index.screen("Harbin Inst. of Tech.", "CN", THRESHOLD)
    assert (hit.entry_id, hit.score) == ("hit", 100.0)


def test_hit_carries_entry_details_and_the_party(index: ScreeningIndex) -> None:
    [hit] = index.screen("Bank Melli Iran", "IR", THRESHOLD, party_role="end_user")
    assert (hit.party, hit.party_name) == ("end_user", "Bank Melli Iran")
    assert (hit.entry_id, hit.entry_name, hit.score) == ("melli", "Bank Melli Iran", 100.0)
    assert hit.source == "Entity List (EL) - Bureau of Industry and Security"
    assert hit.programs == "TEST-PROGRAM"
    assert hit.license_requirement == "For all items subject to the EAR."
    assert hit.license_policy == "Presumption of denial."


def test_country_match_adds_a_bonus_and_a_mismatch_hides_nothing(index: ScreeningIndex) -> None:
    party = "Beijing Biren Technolgy Development"
    plain = index.screen(party, None, 0.0)[0].score
    assert index.screen(party, "CN", 0.0)[0].score == pytest.approx(
        min(100.0, plain + COUNTRY_BONUS)
    )
    assert index.screen(party, "US", 0.0)[0].score == plain
    assert index.screen("Huawei Technologies Co., Ltd.", "US", THRESHOLD)[0].score == 100.0


def test_one_hit_per_entry_best_first(index: ScreeningIndex) -> None:
    # The name and two aliases of SME BANK all resemble this; it is reported once.
    hits = index.screen("JSC SME Bank", "RU", 50.0)
    ids = [hit.entry_id for hit in hits]
    assert len(ids) == len(set(ids))
    assert ids[0] == "sme"
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)


def test_empty_index_and_blank_name_give_no_hits(index: ScreeningIndex) -> None:
    assert ScreeningIndex([]).screen("Huawei", "CN", THRESHOLD) == []
    assert index.screen("   ", "CN", THRESHOLD) == []


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("Huawei Technologies Co., Ltd.", "huawei"),
        ("JSC SME BANK", "sme bank"),
        ("Société Générale S.A.", "societe generale"),
        ("Smith & Co.", "smith"),
        ("Beijing Biren Technology Development Co., Ltd.", "beijing biren technology development"),
        ("Group Limited", "group limited"),  # nothing but legal forms: keep them all
    ],
)
def test_normalize_name(raw: str, normalised: str) -> None:
    assert normalize_name(raw) == normalised


@given(st.text(min_size=1, max_size=60))
def test_normalize_name_is_idempotent_and_never_empty(name: str) -> None:
    once = normalize_name(name)
    assert once
    assert normalize_name(once) == once


@given(
    st.lists(
        st.sampled_from(["co", "ltd", "limited", "group", "jsc", "ooo", "inc", "and", "gmbh"]),
        min_size=1,
        max_size=6,
    )
)
def test_a_name_of_legal_forms_only_keeps_its_words(words: list[str]) -> None:
    assert normalize_name(" ".join(words)) == " ".join(words)
