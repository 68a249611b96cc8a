"""Product catalog, country groups and license rules, as effective-dated data.

A rule set is data a compliance officer can read: which items (by SKU, ECCN or technical
threshold), to which places (destination, country group, headquarters of a party), from where
(an export from the US or a reexport), need what. Nothing here decides; `workflows.rules`
does, as pure functions of this data.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, model_validator

from schemas.documents import EvidenceRequirement


class LicensePolicy(StrEnum):
    """BIS's licensing policy for a line, or that no rule decides it."""

    NLR = "nlr"
    NAC_NOTIFICATION = "nac_notification"
    LICENSE_REQUIRED = "license_required"
    CASE_BY_CASE = "case_by_case"
    PRESUMPTION_OF_DENIAL = "presumption_of_denial"
    POLICY_OF_DENIAL = "policy_of_denial"
    NO_RULE = "no_rule"


class ShipFrom(StrEnum):
    """Which movements a rule covers: exports from the US, reexports from abroad, or both."""

    ANY = "any"
    US = "us"
    ABROAD = "abroad"


class Product(BaseModel):
    """A SKU and the technical parameters license rules are decided on."""

    sku: str
    name: str
    eccn: str = Field(description="the exporter's classification, e.g. 3A090.a, 3A991, EAR99")
    eccn_source: str = ""
    basis: str
    memory: str = ""
    memory_bandwidth_gbps: float | None = None
    tpp: float | None = Field(default=None, description="total processing performance")
    die_area_mm2: float | None = None
    performance_density: float | None = Field(default=None, description="TPP / die area")

    @model_validator(mode="before")
    @classmethod
    def _tbps(cls, raw: Any) -> Any:
        # Catalog files before 2026 gave bandwidth in TB/s.
        if isinstance(raw, dict) and raw.get("memory_bandwidth_tbps") is not None:
            raw = dict(raw)
            raw.setdefault("memory_bandwidth_gbps", float(raw["memory_bandwidth_tbps"]) * 1000)
        if isinstance(raw, dict):
            raw = {k: v for k, v in raw.items() if k != "memory_bandwidth_tbps"}
        return raw


class GroupChange(BaseModel):
    """A country added to or removed from a group on a date (Federal Register notice)."""

    country: str
    change: str = Field(pattern="^(added|removed)$")
    on: date
    citation: str = ""


class CountryGroup(BaseModel):
    """Members of a group of Supplement No. 1 to EAR Part 740, with dated changes."""

    members: list[str] = Field(description="members before the first dated change")
    changes: list[GroupChange] = []
    citation: str = ""


class TreatedAs(BaseModel):
    """A place the EAR treats as another for group membership (Hong Kong as China)."""

    country: str
    as_country: str
    since: date
    citation: str = ""


class LicenseRule(BaseModel):
    """One rule: which items, to or for which places, need what.

    Product criteria all hold together (SKU or ECCN, and every threshold given). Place criteria
    hold when the destination matches (country or group, minus exceptions) or when a party is
    headquartered where the rule says; a rule with neither covers every destination.
    """

    id: str
    text: str
    citation: str = ""
    skus: list[str] = []
    eccns: list[str] = Field(default=[], description="ECCN or a prefix: '3A090' covers .a/.b")
    ccl_items: bool = Field(default=False, description="every item on the CCL (not EAR99)")
    min_tpp: float | None = None
    max_tpp: float | None = Field(default=None, description="exclusive")
    min_performance_density: float | None = None
    min_memory_bandwidth_gbps: float | None = None
    max_memory_bandwidth_gbps: float | None = Field(default=None, description="exclusive")
    destinations: list[str] = []
    country_groups: list[str] = []
    except_destinations: list[str] = []
    except_groups: list[str] = []
    headquarters: list[str] = Field(default=[], description="a party's ultimate parent in ...")
    headquarters_groups: list[str] = []
    ship_from: ShipFrom = ShipFrom.ANY
    license_required: bool
    policy: LicensePolicy
    license_code: str | None = Field(default=None, description="AES code; derived when absent")
    conditions: list[str] = Field(default=[], description="what an approval will be bound to")
    evidence: list[EvidenceRequirement] = Field(
        default=[], description="documents that must be on the order before it ships"
    )
    supersedes: list[str] = Field(default=[], description="rule ids this one replaces")
    effective_from: date | None = None
    effective_until: date | None = Field(default=None, description="last day in force")

    @model_validator(mode="after")
    def _consistent(self) -> LicenseRule:
        if self.policy is LicensePolicy.NO_RULE:
            raise ValueError("policy: 'no_rule' is the absence of a rule, not a rule")
        if self.license_required == (self.policy in _NOT_REQUIRED):
            raise ValueError(f"license_required: contradicts policy {self.policy}")
        return self


_NOT_REQUIRED = frozenset({LicensePolicy.NLR, LicensePolicy.NAC_NOTIFICATION})


class ImportRestriction(BaseModel):
    """A destination that refuses items on import from a date (a customs stop).

    Not an export rule: a license does not help. Orders it covers are put ON_HOLD with its
    text as the reason instead of shipping into a port stop. Destinations are customs
    territories as they are (no "treated as": Hong Kong customs is not China's).
    """

    id: str
    text: str
    citation: str = ""
    destinations: list[str] = Field(min_length=1, description="importing countries")
    skus: list[str] = []
    eccns: list[str] = Field(default=[], description="ECCN or a prefix: '3A090' covers .a/.b")
    effective_from: date = Field(description="first day goods are refused")
    effective_until: date | None = Field(default=None, description="last day goods are refused")

    @model_validator(mode="after")
    def _names_items(self) -> ImportRestriction:
        if not (self.skus or self.eccns):
            raise ValueError("skus: name the items refused (skus or eccns)")
        if self.effective_until is not None and self.effective_until < self.effective_from:
            raise ValueError("effective_until: before effective_from")
        return self


class RuleSet(BaseModel):
    """An effective-dated set of rules; every rule that applies counts, the strictest wins."""

    version: str
    effective_from: date
    citation: str = ""
    country_groups: dict[str, CountryGroup]
    treated_as: list[TreatedAs] = []
    rules: list[LicenseRule]
    import_restrictions: list[ImportRestriction] = []

    @model_validator(mode="before")
    @classmethod
    def _legacy(cls, raw: Any) -> Any:
        # Rule sets before 2026 listed group members as plain lists and carried a default
        # rule (NLR). The default is dropped: with no rule deciding, compliance decides.
        if not isinstance(raw, dict):
            return raw
        raw = {k: v for k, v in raw.items() if k != "default_rule"}
        groups = raw.get("country_groups")
        if isinstance(groups, dict):
            raw["country_groups"] = {
                name: {"members": g} if isinstance(g, list) else g for name, g in groups.items()
            }
        return raw

    @model_validator(mode="after")
    def _known_references(self) -> RuleSet:
        ids = {r.id for r in self.rules}
        if len(ids) != len(self.rules):
            raise ValueError("rules: rule ids must be unique")
        stops = {r.id for r in self.import_restrictions}
        if len(stops) != len(self.import_restrictions) or stops & ids:
            raise ValueError("import_restrictions: ids must be unique, and not a rule's id")
        for rule in self.rules:
            for group in [*rule.country_groups, *rule.except_groups, *rule.headquarters_groups]:
                if group not in self.country_groups:
                    raise ValueError(f"rules: {rule.id} names unknown country group {group}")
            for other in rule.supersedes:
                if other not in ids:
                    raise ValueError(f"rules: {rule.id} supersedes unknown rule {other}")
        return self


class Catalog(BaseModel):
    """Products plus the rule set in force."""

    products: dict[str, Product]
    ruleset: RuleSet
