"""License determination: a pure function of the order's facts and the rule set in force.

It fails closed. Every rule that covers a line counts and the strictest wins (unless a rule
explicitly supersedes another, as the January 2026 H200-class rule does); a line that no rule
covers for one of its countries is not "no license required" but "no rule: compliance must
decide". Only an explicit NLR rule yields NLR.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from schemas.catalog import (
    Catalog,
    ImportRestriction,
    LicensePolicy,
    LicenseRule,
    Product,
    RuleSet,
    ShipFrom,
)
from schemas.orders import (
    NO_RULE_ID,
    BookOrderRequest,
    Determination,
    ImportStop,
    LineDetermination,
    ScreeningResult,
)
from workflows.rules.country_groups import aliases, groups_of

P = LicensePolicy
# Strictest first. An undecided line outranks NLR: a person decides before anything ships.
SEVERITY = [
    P.POLICY_OF_DENIAL,
    P.PRESUMPTION_OF_DENIAL,
    P.CASE_BY_CASE,
    P.LICENSE_REQUIRED,
    P.NO_RULE,
    P.NAC_NOTIFICATION,
    P.NLR,
]
_RANK = {p: i for i, p in enumerate(SEVERITY)}
_NO_RULE_TEXT = (
    "No rule in force decides this item for {where}: compliance must decide whether a license "
    "is required (fail closed: never NLR by default)."
)


@dataclass(frozen=True)
class DeterminationFacts:
    """What determination reads from an order, built once from its booking."""

    skus: tuple[str, ...]
    destinations: tuple[str, ...]
    headquarters: frozenset[str]
    ship_from: str

    @property
    def destination(self) -> str:
        """Where the goods end up: the ultimate consignee's country, else the end user's."""
        return self.destinations[0]


def facts_of(booking: BookOrderRequest) -> DeterminationFacts:
    """Every country involved: where the goods go (consignees, end user) and parties' parents."""
    places = [booking.consignee().country, booking.end_user.country]
    places += [p.country for p in booking.intermediate_consignees]
    hq = {p.headquarters_country for p in booking.parties().values() if p.headquarters_country}
    return DeterminationFacts(
        skus=tuple(line.sku for line in booking.lines),
        destinations=tuple(dict.fromkeys(places)),
        headquarters=frozenset(hq),
        ship_from=booking.ship_from,
    )


def _in_force(rule: LicenseRule, on: date) -> bool:
    return (rule.effective_from is None or rule.effective_from <= on) and (
        rule.effective_until is None or on <= rule.effective_until
    )


def _named(skus: list[str], eccns: list[str], product: Product) -> bool:
    """The product is one of `skus`, or its ECCN is one of `eccns` (or below one of them)."""
    return product.sku in skus or any(
        product.eccn == e or product.eccn.startswith(e + ".") for e in eccns
    )


def _covers_item(rule: LicenseRule, product: Product) -> bool:
    if (rule.skus or rule.eccns) and not _named(rule.skus, rule.eccns, product):
        return False
    if rule.ccl_items and product.eccn.upper() == "EAR99":
        return False
    return _meets_thresholds(rule, product)


def _meets_thresholds(rule: LicenseRule, product: Product) -> bool:
    # A threshold the catalog has no figure for is not met: such a product is covered by its
    # ECCN's rules or, failing those, decided by a person.
    checks = [
        (rule.min_tpp, product.tpp, operator.ge),
        (rule.max_tpp, product.tpp, operator.lt),
        (rule.min_performance_density, product.performance_density, operator.ge),
        (rule.min_memory_bandwidth_gbps, product.memory_bandwidth_gbps, operator.ge),
        (rule.max_memory_bandwidth_gbps, product.memory_bandwidth_gbps, operator.lt),
    ]
    return all(t is None or (v is not None and ok(v, t)) for t, v, ok in checks)


def _covers_place(
    rule: LicenseRule, rules: RuleSet, country: str, facts: DeterminationFacts, on: date
) -> bool:
    if rule.ship_from is not ShipFrom.ANY and (rule.ship_from is ShipFrom.US) != (
        facts.ship_from == "US"
    ):
        return False
    names, groups = aliases(rules, country, on), groups_of(rules, country, on)
    by_place = bool(rule.destinations or rule.country_groups)
    by_parent = bool(rule.headquarters or rule.headquarters_groups)
    excluded = bool(names & set(rule.except_destinations)) or bool(groups & set(rule.except_groups))
    place_hit = not excluded and (
        not by_place or bool(names & set(rule.destinations) or groups & set(rule.country_groups))
    )
    if not by_place and not by_parent:
        return place_hit
    parent_hit = by_parent and any(
        aliases(rules, hq, on) & set(rule.headquarters)
        or groups_of(rules, hq, on) & set(rule.headquarters_groups)
        for hq in facts.headquarters
    )
    return (by_place and place_hit) or parent_hit


def _decisive(fired: list[LicenseRule]) -> LicenseRule | None:
    superseded = {other for rule in fired for other in rule.supersedes}
    live = [r for r in fired if r.id not in superseded]
    # Stable: among rules of equal severity the one listed first (the more specific) decides.
    return min(live, key=lambda r: _RANK[r.policy]) if live else None


def _code(rule: LicenseRule) -> str:
    if rule.license_code:
        return rule.license_code
    return "C30" if rule.license_required else "C33"


def _line(
    product: Product, rules: RuleSet, facts: DeterminationFacts, on: date
) -> LineDetermination:
    candidates = [r for r in rules.rules if _in_force(r, on) and _covers_item(r, product)]
    outcomes: list[tuple[str, LicenseRule | None]] = []
    for country in facts.destinations:
        fired = [r for r in candidates if _covers_place(r, rules, country, facts, on)]
        outcomes.append((country, _decisive(fired)))
    ranked = sorted(outcomes, key=lambda o: _RANK[o[1].policy] if o[1] else _RANK[P.NO_RULE])
    country, rule = ranked[0]
    if rule is None:
        return LineDetermination(
            sku=product.sku,
            eccn=product.eccn,
            license_required=None,
            policy=P.NO_RULE,
            rule_id=NO_RULE_ID,
            rule_text=_NO_RULE_TEXT.format(where=f"{product.eccn} to {country}"),
            license_code=None,
        )
    return LineDetermination(
        sku=product.sku,
        eccn=product.eccn,
        license_required=rule.license_required,
        policy=rule.policy,
        rule_id=rule.id,
        rule_text=rule.text,
        citation=rule.citation,
        license_code=_code(rule),
        conditions=list(rule.conditions),
        evidence=list(rule.evidence),
    )


def _stops_in_force(stop: ImportRestriction, on: date) -> bool:
    return stop.effective_from <= on and (
        stop.effective_until is None or on <= stop.effective_until
    )


def import_stops(
    products: list[Product], rules: RuleSet, facts: DeterminationFacts, on: date
) -> list[ImportStop]:
    """Lines a country the goods go to refuses on import on `on` (customs stops)."""
    return [
        ImportStop(
            sku=product.sku,
            destination=country,
            rule_id=stop.id,
            text=stop.text,
            citation=stop.citation,
            since=stop.effective_from,
        )
        for stop in rules.import_restrictions
        if _stops_in_force(stop, on)
        for product in products
        if _named(stop.skus, stop.eccns, product)
        # Customs territories as they are: no "treated as" here.
        for country in facts.destinations
        if country in stop.destinations
    ]


def determine(
    facts: DeterminationFacts, catalog: Catalog, screening: ScreeningResult | None, on: date
) -> Determination:
    """Decide each line and the order: license required if any line is, review unless all NLR."""
    unknown = [s for s in facts.skus if s not in catalog.products]
    if unknown:
        raise ValueError(f"unknown SKU(s): {', '.join(unknown)}")
    rules = catalog.ruleset
    products = [catalog.products[s] for s in dict.fromkeys(facts.skus)]
    lines = [_line(product, rules, facts, on) for product in products]
    blank = Determination(
        license_required=None,
        policy=P.NO_RULE,
        rule_id=NO_RULE_ID,
        rule_text="",
        ruleset_version=rules.version,
        license_code=None,
        destination=facts.destination,
        ship_from=facts.ship_from,
        compliance_review_required=True,
        import_stops=import_stops(products, rules, facts, on),
    )
    return summarise(blank, lines, red_flag=screening is not None and bool(screening.hits))


def summarise(
    det: Determination, lines: list[LineDetermination], *, red_flag: bool
) -> Determination:
    """The order's determination from its lines: the strictest line speaks for the order.

    Compliance review is skipped only when every line is NLR by an explicit rule (or by an
    officer's decision) and screening found nothing.
    """
    decisive = min(lines, key=lambda line: _RANK[line.policy])
    explicit_nlr = all(line.license_required is False for line in lines)
    return det.model_copy(
        update={
            "license_required": _order_required(line.license_required for line in lines),
            "policy": decisive.policy,
            "rule_id": decisive.rule_id,
            "rule_text": decisive.rule_text,
            "license_code": decisive.license_code,
            "compliance_review_required": not explicit_nlr or red_flag,
            "lines": lines,
        }
    )


def _order_required(flags: Iterable[bool | None]) -> bool | None:
    values = list(flags)
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False
