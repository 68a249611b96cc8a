"""Product catalog and license rules, as effective-dated data."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class Product(BaseModel):
    """A SKU and the technical parameters license rules are decided on."""

    sku: str
    name: str
    eccn: str
    basis: str
    memory: str = ""
    memory_bandwidth_tbps: float | None = None
    tpp: float | None = None
    performance_density: float | None = None


class LicenseRule(BaseModel):
    """One rule: which products to which destinations need what."""

    id: str
    text: str
    skus: list[str] = []
    eccns: list[str] = []
    min_tpp: float | None = None
    destinations: list[str] = []
    country_groups: list[str] = []
    license_required: bool
    policy: str = Field(description="'license_required', 'presumption_of_denial' or 'nlr'")


class RuleSet(BaseModel):
    """An effective-dated set of rules; the first rule that matches a line decides it."""

    version: str
    effective_from: date
    country_groups: dict[str, list[str]]
    rules: list[LicenseRule]
    default_rule: LicenseRule


class Catalog(BaseModel):
    """Products plus the rule set in force."""

    products: dict[str, Product]
    ruleset: RuleSet
