"""Import restrictions: a destination refusing a SKU on import from a date (a customs stop)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from schemas.catalog import RuleSet
from tests.policy_data import catalog_with, customs_stop, edited
from workflows.catalog import load_catalog
from workflows.rules.determination import DeterminationFacts, determine

STOP = catalog_with(edited("stop", customs_stop("H20", "CN", "2027-01-10")))


def _facts(sku: str, dest: str, via: tuple[str, ...] = ()) -> DeterminationFacts:
    return DeterminationFacts((sku,), (dest, *via), frozenset(), "US")


@pytest.mark.parametrize(
    ("sku", "dest", "via", "on", "stopped"),
    [
        ("H20", "CN", (), date(2027, 1, 9), False),  # the day before
        ("H20", "CN", (), date(2027, 1, 10), True),  # from its date
        ("H20", "CN", (), date(2028, 6, 1), True),  # open-ended
        ("RTX-PRO-6000D", "CN", (), date(2027, 2, 1), False),  # another SKU
        ("H20", "HK", (), date(2027, 2, 1), False),  # Hong Kong customs is not China's
        ("H20", "SG", ("CN",), date(2027, 2, 1), True),  # goods go through China
    ],
)
def test_a_customs_stop_covers_its_sku_and_country_from_its_date(
    sku: str, dest: str, via: tuple[str, ...], on: date, stopped: bool
) -> None:
    det = determine(_facts(sku, dest, via), STOP, None, on)
    assert bool(det.import_stops) is stopped
    if stopped:
        (stop,) = det.import_stops
        assert (stop.sku, stop.destination, stop.rule_id) == (sku, "CN", "STOP-H20-CN")
        assert stop.since == date(2027, 1, 10)


def test_the_export_outcome_is_decided_as_before_beside_the_stop() -> None:
    det = determine(_facts("H20", "CN"), STOP, None, date(2027, 2, 1))
    plain = determine(_facts("H20", "CN"), load_catalog(), None, date(2027, 2, 1))
    assert det.model_copy(update={"import_stops": [], "ruleset_version": "x"}) == (
        plain.model_copy(update={"ruleset_version": "x"})
    )


def test_a_stop_by_eccn_prefix_and_with_an_end_date() -> None:
    def edit(raw: dict[str, Any]) -> None:
        raw["import_restrictions"] = [
            {
                "id": "STOP-3A090-AE",
                "text": "UAE customs hold on 3A090 items",
                "destinations": ["AE"],
                "eccns": ["3A090"],
                "effective_from": "2027-03-01",
                "effective_until": "2027-03-31",
            }
        ]

    cat = catalog_with(edited("e", edit))
    inside = determine(_facts("H200", "AE"), cat, None, date(2027, 3, 31))
    after = determine(_facts("H200", "AE"), cat, None, date(2027, 4, 1))
    h20 = determine(_facts("H20", "AE"), cat, None, date(2027, 3, 15))
    assert [s.rule_id for s in inside.import_stops] == ["STOP-3A090-AE"]
    assert after.import_stops == []
    assert h20.import_stops == []  # 3A991 is not 3A090


def test_a_stop_must_name_its_items_and_an_id_of_its_own() -> None:
    raw = load_catalog().ruleset.model_dump(mode="json")
    bad = {"id": "S", "text": "t", "destinations": ["CN"], "effective_from": "2027-01-01"}
    with pytest.raises(ValidationError, match="skus"):
        RuleSet.model_validate(raw | {"import_restrictions": [bad]})
    clash = bad | {"id": "AT-ONLY-NLR", "skus": ["H20"]}
    with pytest.raises(ValidationError, match="import_restrictions"):
        RuleSet.model_validate(raw | {"import_restrictions": [clash]})
