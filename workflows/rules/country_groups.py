"""Country-group membership on a date, from the rule set's dated data."""

from __future__ import annotations

from datetime import date

from schemas.catalog import RuleSet


def members(ruleset: RuleSet, group: str, on: date) -> frozenset[str]:
    """Who is in `group` on `on`: the listed members, with every change dated up to then."""
    spec = ruleset.country_groups[group]
    current = set(spec.members)
    for change in sorted(spec.changes, key=lambda c: c.on):
        if change.on > on:
            break
        if change.change == "added":
            current.add(change.country)
        else:
            current.discard(change.country)
    return frozenset(current)


def aliases(ruleset: RuleSet, country: str, on: date) -> frozenset[str]:
    """The country and every place the EAR treats it as on `on` (Hong Kong as China)."""
    found = {country}
    for t in ruleset.treated_as:
        if t.country == country and t.since <= on:
            found.add(t.as_country)
    return frozenset(found)


def groups_of(ruleset: RuleSet, country: str, on: date) -> frozenset[str]:
    """Every group `country` belongs to on `on`, directly or through what it is treated as."""
    names = aliases(ruleset, country, on)
    return frozenset(g for g in ruleset.country_groups if names & members(ruleset, g, on))
