"""Rule sets for the policy-change tests: the bundled one, edited as a notice would edit it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date
from typing import Any

from schemas.catalog import Catalog, RuleSet
from workflows.catalog import load_catalog

Edit = Callable[[dict[str, Any]], None]


def _rule(raw: dict[str, Any], rule_id: str) -> dict[str, Any]:
    # An edit of a rule another edit removed changes nothing (edits combine in any order).
    return next((r for r in raw["rules"] if r["id"] == rule_id), {})


def rtx_needs_license(raw: dict[str, Any]) -> None:
    """RTX PRO 6000D to China now needs a license (NLR orders go to review)."""
    rule = _rule(raw, "RTX-PRO-DESIGNED-TO-COMPLY")
    rule.update(license_required=True, policy="license_required", text="RTX PRO: license")


def h20_presumption_of_denial(raw: dict[str, Any]) -> None:
    """The H20 letter tightens from case by case to presumption of denial."""
    _rule(raw, "IS-INFORMED-2025-04-H20")["policy"] = "presumption_of_denial"


def h20_letter_withdrawn(raw: dict[str, Any]) -> None:
    """The H20 letter is withdrawn: the H20 is NLR again (anti-terrorism controls only)."""
    gone = {"IS-INFORMED-2025-04-H20", "IS-INFORMED-2025-04-BANDWIDTH"}
    raw["rules"] = [r for r in raw["rules"] if r["id"] not in gone]


def no_at_only_rule(raw: dict[str, Any]) -> None:
    """Without the anti-terrorism NLR rule, a 3A991 item to Germany is for compliance."""
    raw["rules"] = [r for r in raw["rules"] if r["id"] != "AT-ONLY-NLR"]


def customs_stop(sku: str = "H20", country: str = "CN", since: str = "2025-01-01") -> Edit:
    """`country` refuses `sku` on import from `since`."""

    def edit(raw: dict[str, Any]) -> None:
        raw.setdefault("import_restrictions", []).append(
            {
                "id": f"STOP-{sku}-{country}",
                "text": f"{country} customs refuses {sku} on import",
                "citation": "customs notice (example)",
                "destinations": [country],
                "skus": [sku],
                "effective_from": since,
            }
        )

    return edit


EDITS: dict[str, Edit] = {
    "rtx_needs_license": rtx_needs_license,
    "h20_presumption_of_denial": h20_presumption_of_denial,
    "h20_letter_withdrawn": h20_letter_withdrawn,
    "no_at_only_rule": no_at_only_rule,
    "customs_stop_h20_cn": customs_stop(),
}


def edited(version: str, *edits: Edit, effective_from: date | None = None) -> RuleSet:
    """The bundled rule set under a new version, with `edits` applied."""
    raw = copy.deepcopy(load_catalog().ruleset.model_dump(mode="json"))
    raw["version"] = version
    if effective_from is not None:
        raw["effective_from"] = effective_from.isoformat()
    for edit in edits:
        edit(raw)
    return RuleSet.model_validate(raw)


def catalog_with(ruleset: RuleSet) -> Catalog:
    """The bundled products with `ruleset`."""
    return Catalog(products=load_catalog().products, ruleset=ruleset)


def put_in_force(database_url: str, ruleset: RuleSet) -> None:
    """Stage, approve (two officers) and activate `ruleset` now, without its timer or fan-out
    (as if its fan-out had found no open order). For tests about what a rule set in force
    decides, not about how it got there.
    """
    from datetime import UTC, datetime

    from schemas.ruleset_io import FanOutCursor, FanOutDone
    from schemas.rulesets import StageRuleSet
    from services.db.engine import make_engine, session_factory
    from services.policy import lifecycle, store

    engine = make_engine(database_url)
    now = datetime.now(UTC)
    with session_factory(engine, write=True)() as session:
        store.stage(session, body=StageRuleSet(ruleset=ruleset), actor="test", now=now)
        for officer in ("test-officer-1", "test-officer-2"):
            row = store.get(session, ruleset.version)
            row.approvals = [*row.approvals, {"by": officer, "at": now.isoformat()}]
        row.approved_at = now
        session.add(row)
        session.flush()
        lifecycle.activate(session, version=ruleset.version, at=now)
        cursor = FanOutCursor(event="activated", target=ruleset.version, on=now.date())
        lifecycle.finish(session, FanOutDone(version=ruleset.version, cursor=cursor, at=now))
        session.commit()
    engine.dispose()
