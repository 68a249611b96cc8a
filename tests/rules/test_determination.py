"""License determination over every product and a spread of destinations, and fail-closed cases."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from schemas.catalog import Catalog, Product
from schemas.orders import (
    NO_RULE_ID,
    BookOrderRequest,
    ScreeningHit,
    ScreeningResult,
    ScreeningStatus,
)
from workflows.catalog import load_catalog
from workflows.rules.country_groups import groups_of, members
from workflows.rules.determination import DeterminationFacts, determine, facts_of

TODAY = date(2026, 11, 30)
EMB, RUBY, US = "EMBARGO-E1-E2", "EAR-746.8-RU-BY", "NOT-AN-EXPORT-US"
AT, RTX, LETTER = "AT-ONLY-NLR", "RTX-PRO-DESIGNED-TO-COMPLY", "IS-INFORMED-2025-04-H20"
JAN26, A_D, A_NLR = "3A090A-2026-01-CN-MO-CASE-BY-CASE", "3A090A-D1-D4-D5", "3A090A-NLR-ELSEWHERE"

# destination -> rule, per product; the policy and code follow from the rule (checked below).
EXPECTED: dict[str, dict[str, str]] = {
    "H20": {
        "CN": LETTER,
        "HK": LETTER,
        "MO": LETTER,
        "SG": AT,
        "AE": AT,
        "SA": AT,
        "VN": AT,
        "IN": AT,
        "RU": RUBY,
        "BY": RUBY,
        "IR": EMB,
        "CU": EMB,
        "KP": EMB,
        "DE": AT,
        "JP": AT,
        "GB": AT,
        "US": US,
        "BR": AT,
    },
    "RTX-PRO-6000D": {
        "CN": RTX,
        "HK": RTX,
        "MO": RTX,
        "SG": AT,
        "AE": AT,
        "SA": AT,
        "VN": AT,
        "IN": AT,
        "RU": RUBY,
        "BY": RUBY,
        "IR": EMB,
        "CU": EMB,
        "KP": EMB,
        "DE": AT,
        "JP": AT,
        "GB": AT,
        "US": US,
        "BR": AT,
    },
    "H100-SXM": {
        "CN": JAN26,
        "HK": JAN26,
        "MO": JAN26,
        "SG": A_NLR,
        "AE": A_D,
        "SA": A_D,
        "VN": A_D,
        "IN": A_NLR,
        "RU": RUBY,
        "BY": RUBY,
        "IR": EMB,
        "CU": EMB,
        "KP": EMB,
        "DE": A_NLR,
        "JP": A_NLR,
        "GB": A_NLR,
        "US": US,
        "BR": A_NLR,
    },
}
EXPECTED["H200"] = dict(EXPECTED["H100-SXM"])
OUTCOME = {  # rule -> (license required, policy, AES code)
    EMB: (True, "policy_of_denial", "C30"),
    RUBY: (True, "policy_of_denial", "C30"),
    US: (False, "nlr", "C33"),
    AT: (False, "nlr", "C33"),
    RTX: (False, "nlr", "C33"),
    LETTER: (True, "case_by_case", "C30"),
    JAN26: (True, "case_by_case", "C30"),
    A_D: (True, "case_by_case", "C30"),
    A_NLR: (False, "nlr", "C33"),
}
CASES = [(sku, dest, rule) for sku, row in EXPECTED.items() for dest, rule in row.items()]


def facts(
    *skus: str,
    dest: str = "CN",
    hq: tuple[str, ...] = (),
    ship_from: str = "US",
    via: tuple[str, ...] = (),
) -> DeterminationFacts:
    return DeterminationFacts(
        skus=skus, destinations=(dest, *via), headquarters=frozenset(hq), ship_from=ship_from
    )


def test_every_catalog_product_is_in_the_table() -> None:
    assert set(EXPECTED) == set(load_catalog().products)


@pytest.mark.parametrize(("sku", "dest", "rule"), CASES)
def test_product_to_destination(sku: str, dest: str, rule: str) -> None:
    det = determine(facts(sku, dest=dest), load_catalog(), None, TODAY)
    (line,) = det.lines
    required, policy, code = OUTCOME[rule]
    assert (line.rule_id, line.license_required, line.policy, line.license_code) == (
        rule,
        required,
        policy,
        code,
    )
    assert det.compliance_review_required is required


def test_a_rule_set_without_a_rule_for_the_destination_fails_closed() -> None:
    catalog = load_catalog()
    rules = catalog.ruleset.model_copy(
        update={"rules": [r for r in catalog.ruleset.rules if r.id not in (AT, US)]}
    )
    thin = Catalog(products=catalog.products, ruleset=rules)
    det = determine(facts("H20", dest="DE"), thin, None, TODAY)
    assert det.license_required is None
    assert det.policy == "no_rule"
    assert det.rule_id == NO_RULE_ID
    assert det.license_code is None
    assert det.compliance_review_required


def test_an_item_no_rule_mentions_is_for_compliance_to_decide() -> None:
    catalog = load_catalog()
    server = Product(sku="DGX", name="DGX server", eccn="4A090.a", basis="computer")
    wide = Catalog(products={**catalog.products, "DGX": server}, ruleset=catalog.ruleset)
    det = determine(facts("DGX", "RTX-PRO-6000D", dest="JP"), wide, None, TODAY)
    assert [line.license_required for line in det.lines] == [None, False]
    assert det.license_required is None
    assert det.compliance_review_required


def test_the_letter_reaches_a_subsidiary_whose_parent_is_in_china() -> None:
    det = determine(facts("H20", dest="SG", hq=("CN",)), load_catalog(), None, TODAY)
    assert (det.rule_id, det.license_required) == (LETTER, True)


@pytest.mark.parametrize("parent", ["MO", "CN", "IR", "VE"])
def test_3a090a_for_a_buyer_headquartered_in_macau_or_d5_anywhere(parent: str) -> None:
    det = determine(facts("H100-SXM", dest="DE", hq=(parent,)), load_catalog(), None, TODAY)
    assert (det.rule_id, det.policy) == ("3A090A-HQ-D5-MO", "presumption_of_denial")


def test_h200_reexported_from_abroad_stays_under_presumption_of_denial() -> None:
    det = determine(facts("H200", dest="CN", ship_from="TW"), load_catalog(), None, TODAY)
    assert (det.rule_id, det.policy) == ("3A090A-D5-MO-DENIAL", "presumption_of_denial")


def test_h200_from_the_us_carries_the_january_2026_conditions() -> None:
    det = determine(facts("H200", dest="CN"), load_catalog(), None, TODAY)
    assert any("lab test" in c for c in det.lines[0].conditions)


def test_before_january_2026_h200_to_china_was_presumption_of_denial() -> None:
    det = determine(facts("H200", dest="CN"), load_catalog(), None, date(2025, 12, 1))
    assert det.policy == "presumption_of_denial"


def test_before_the_letter_h20_to_china_needed_no_license() -> None:
    det = determine(facts("H20", dest="CN"), load_catalog(), None, date(2025, 4, 1))
    assert (det.rule_id, det.license_required) == (AT, False)


def test_an_intermediate_consignee_in_hong_kong_counts() -> None:
    det = determine(facts("H20", dest="DE", via=("HK",)), load_catalog(), None, TODAY)
    assert det.license_required is True
    assert det.rule_id == LETTER


def test_mixed_order_decides_each_line() -> None:
    det = determine(facts("H20", "RTX-PRO-6000D"), load_catalog(), None, TODAY)
    assert [(line.sku, line.license_code) for line in det.lines] == [
        ("H20", "C30"),
        ("RTX-PRO-6000D", "C33"),
    ]
    assert det.license_required is True
    assert det.licensed_skus() == ["H20"]


def test_country_groups_change_on_their_date() -> None:
    rules = load_catalog().ruleset
    assert "KH" not in members(rules, "D:5", date(2021, 12, 8))
    assert "KH" in members(rules, "D:5", date(2021, 12, 9))
    assert "A:6" in groups_of(rules, "HK", date(2020, 12, 22))
    assert "A:6" not in groups_of(rules, "HK", TODAY)
    assert {"D:1", "D:4", "D:5"} <= groups_of(rules, "HK", TODAY)  # treated as China


def test_booking_facts_take_every_party_and_country() -> None:
    booking = BookOrderRequest.model_validate(
        {
            "purchaser": {"name": "P", "country": "SG", "headquarters_country": "CN"},
            "end_user": {"name": "E", "country": "MY"},
            "ultimate_consignee": {"name": "U", "country": "SG"},
            "intermediate_consignees": [{"name": "F", "country": "HK"}],
            "end_use": "cloud",
            "lines": [{"sku": "H20", "quantity": 1, "unit_price": "1.00"}],
            "requested_ship_date": "2027-01-01",
        }
    )
    f = facts_of(booking)
    assert f.destinations == ("SG", "MY", "HK")
    assert f.headquarters == {"CN"}
    assert f.ship_from == "US"


def test_a_screening_match_makes_an_nlr_order_go_to_compliance() -> None:
    hit = ScreeningHit(
        party="end_user",
        party_name="X",
        entry_id="1",
        entry_name="X",
        matched_name="X",
        source="EL",
        score=95.0,
    )
    screening = ScreeningResult(
        status=ScreeningStatus.POTENTIAL_MATCH, screened_at=datetime.now(UTC), hits=[hit]
    )
    det = determine(facts("RTX-PRO-6000D"), load_catalog(), screening, TODAY)
    assert det.license_required is False
    assert det.compliance_review_required


def test_unknown_sku_is_an_error() -> None:
    with pytest.raises(ValueError, match="A100"):
        determine(facts("A100"), load_catalog(), None, TODAY)
