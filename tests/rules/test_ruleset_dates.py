"""The days a rule set's own decisions change on, which its workflow wakes for."""

from __future__ import annotations

from datetime import date
from typing import Any

from tests.policy_data import customs_stop, edited
from workflows.rules.ruleset_dates import change_dates


def _dated_rule(raw: dict[str, Any]) -> None:
    rule = next(r for r in raw["rules"] if r["id"] == "RTX-PRO-DESIGNED-TO-COMPLY")
    rule.update(effective_from="2027-02-01", effective_until="2027-02-28")
    raw["country_groups"]["D:5"].setdefault("changes", []).append(
        {"country": "SG", "change": "added", "on": "2027-03-15"}
    )


def test_starts_ends_and_group_changes_inside_the_window_only() -> None:
    rules = edited("d", _dated_rule, customs_stop("H20", "CN", "2027-01-20"))
    found = change_dates(rules, after=date(2027, 1, 10), before=date(2027, 3, 15))
    # the rule's last day is 28 Feb: it stops applying on 1 Mar; SG joins D:5 on the expiry
    assert found == [date(2027, 1, 20), date(2027, 2, 1), date(2027, 3, 1)]
    assert change_dates(rules, after=date(2027, 3, 1), before=None) == [date(2027, 3, 15)]


def test_the_bundled_rule_set_has_nothing_dated_after_its_own_date() -> None:
    rules = edited("b")
    assert change_dates(rules, after=date(2026, 1, 15), before=None) == []
