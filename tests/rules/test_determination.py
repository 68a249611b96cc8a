"""License determination from the catalog and rule set."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from schemas.orders import ScreeningHit, ScreeningResult
from workflows.catalog import load_catalog
from workflows.rules.determination import determine


@pytest.mark.parametrize(
    ("skus", "dest", "required", "policy", "rule", "code"),
    [
        (["H20"], "CN", True, "license_required", "IS-INFORMED-2025-04-H20", "C30"),
        (["H20"], "HK", True, "license_required", "IS-INFORMED-2025-04-H20", "C30"),
        (["H20"], "MO", True, "license_required", "IS-INFORMED-2025-04-H20", "C30"),
        (["H20"], "IR", True, "license_required", "IS-INFORMED-2025-04-H20", "C30"),  # D:5
        (["H20"], "DE", False, "nlr", "NLR-NO-RULE", "C33"),
        (["RTX-PRO-6000D"], "CN", False, "nlr", "RTX-PRO-DESIGNED-TO-COMPLY", "C33"),
        (["H100-SXM"], "CN", True, "presumption_of_denial", "EAR-742.6-3A090A-D5", "C30"),
        (["H100-SXM"], "JP", False, "nlr", "NLR-NO-RULE", "C33"),
        (
            ["RTX-PRO-6000D", "H100-SXM"],
            "CN",
            True,
            "presumption_of_denial",
            "EAR-742.6-3A090A-D5",
            "C30",
        ),
        (
            ["RTX-PRO-6000D", "H20"],
            "CN",
            True,
            "license_required",
            "IS-INFORMED-2025-04-H20",
            "C30",
        ),
    ],
)
def test_rule_that_decides(
    skus: list[str], dest: str, required: bool, policy: str, rule: str, code: str
) -> None:
    det = determine(skus, dest, load_catalog(), None)
    assert (det.license_required, det.policy, det.rule_id, det.license_code) == (
        required,
        policy,
        rule,
        code,
    )
    assert det.ruleset_version == load_catalog().ruleset.version
    assert det.compliance_review_required is required


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
    screening = ScreeningResult(status="potential_match", screened_at=datetime.now(UTC), hits=[hit])
    det = determine(["RTX-PRO-6000D"], "CN", load_catalog(), screening)
    assert not det.license_required
    assert det.compliance_review_required


def test_unknown_sku_is_an_error() -> None:
    with pytest.raises(ValueError, match="A100"):
        determine(["A100"], "CN", load_catalog(), None)
