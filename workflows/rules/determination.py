"""License determination: a pure function of products, destination and screening outcome."""

from __future__ import annotations

from collections.abc import Sequence

from schemas.catalog import Catalog, LicenseRule, Product, RuleSet
from schemas.orders import Determination, ScreeningResult

# Most restrictive first: an order is decided by its most restrictive line.
_SEVERITY = {"presumption_of_denial": 0, "license_required": 1, "nlr": 2}


def _applies(rule: LicenseRule, product: Product, destination: str, rules: RuleSet) -> bool:
    by_product = bool(rule.skus or rule.eccns or rule.min_tpp is not None)
    product_hit = (
        product.sku in rule.skus
        or product.eccn in rule.eccns
        or (rule.min_tpp is not None and (product.tpp or 0) >= rule.min_tpp)
    )
    if by_product and not product_hit:
        return False
    if not rule.destinations and not rule.country_groups:
        return True
    groups = (rules.country_groups.get(g, []) for g in rule.country_groups)
    return destination in rule.destinations or any(destination in g for g in groups)


def rule_for_line(product: Product, destination: str, rules: RuleSet) -> LicenseRule:
    """The first rule of the set that covers this product to this destination."""
    for rule in rules.rules:
        if _applies(rule, product, destination, rules):
            return rule
    return rules.default_rule


def determine(
    skus: Sequence[str], destination: str, catalog: Catalog, screening: ScreeningResult | None
) -> Determination:
    """Decide whether an order needs a license, and whether compliance must review it."""
    unknown = [s for s in skus if s not in catalog.products]
    if unknown:
        raise ValueError(f"unknown SKU(s): {', '.join(unknown)}")
    rules = catalog.ruleset
    fired = [rule_for_line(catalog.products[s], destination, rules) for s in skus]
    decisive = min(fired, key=lambda r: _SEVERITY.get(r.policy, 1))
    red_flag = screening is not None and bool(screening.hits)
    return Determination(
        license_required=decisive.license_required,
        policy=decisive.policy,
        rule_id=decisive.id,
        rule_text=decisive.text,
        ruleset_version=rules.version,
        license_code="C30" if decisive.license_required else "C33",
        destination=destination,
        compliance_review_required=decisive.license_required or red_flag,
    )
