"""Compliance deciding the lines no rule decides: the only way a no-rule line becomes NLR."""

from __future__ import annotations

from schemas.catalog import LicensePolicy
from schemas.orders import Determination, LineDetermination
from workflows.rules.determination import summarise
from workflows.rules.transitions import Refusal, RefusalKind


def check_decision(det: Determination | None, license_required: bool | None) -> None:
    """An approval of an order with undecided lines must say whether they need a license."""
    undecided = det.undecided_skus() if det is not None else []
    if undecided and license_required is None:
        raise Refusal(
            RefusalKind.INVALID,
            f"license_required: no rule in force decides {', '.join(undecided)}; the approving "
            "officer must say whether a license is required (true or false)",
        )


def apply_decision(det: Determination, license_required: bool | None, by: str) -> Determination:
    """The determination with the officer's decision on every undecided line."""
    if license_required is None or not det.undecided_skus():
        return det
    lines = [
        _decided(line, license_required, by) if line.license_required is None else line
        for line in det.lines
    ]
    # The review is happening now; the summary's review flag no longer routes the order.
    return summarise(det, lines, red_flag=det.compliance_review_required)


def _decided(line: LineDetermination, required: bool, by: str) -> LineDetermination:
    verdict = "license required" if required else "no license required (NLR)"
    return line.model_copy(
        update={
            "license_required": required,
            "policy": LicensePolicy.LICENSE_REQUIRED if required else LicensePolicy.NLR,
            "license_code": "C30" if required else "C33",
            "decided_by": by,
            "rule_text": f"{line.rule_text} Decided by compliance officer {by}: {verdict}.",
        }
    )
