"""The dates on which a rule set's own decisions change: dated rules, stops, group changes.

A rule set in force decides differently from one of these dates on (a customs stop that starts
later, a rule that ends, a country joining a group); the rule set's workflow wakes on each and
re-determines the open orders then, as it does on activation.
"""

from __future__ import annotations

from datetime import date, timedelta

from schemas.catalog import RuleSet

_DAY = timedelta(days=1)


def change_dates(ruleset: RuleSet, *, after: date, before: date | None) -> list[date]:
    """Every day strictly between `after` and `before` on which something in `ruleset` starts
    or stops applying (an `effective_until` is the last day: the change is the day after)."""
    spans = [(r.effective_from, r.effective_until) for r in ruleset.rules]
    spans += [(s.effective_from, s.effective_until) for s in ruleset.import_restrictions]
    found: set[date] = set()
    for start, last in spans:
        if start is not None:
            found.add(start)
        if last is not None:
            found.add(last + _DAY)
    for group in ruleset.country_groups.values():
        found.update(change.on for change in group.changes)
    found.update(t.since for t in ruleset.treated_as)
    return sorted(d for d in found if d > after and (before is None or d < before))
