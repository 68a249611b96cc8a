"""Screening lists: one listed party, and one imported version (snapshot) of a list."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ListedParty(BaseModel):
    """One entry of a screening list (CSL row or OFAC SDN entry), as the matcher sees it."""

    entry_id: str = Field(min_length=1, description="CSL `_id`, or the OFAC ent_num")
    source: str = Field(description="List it comes from, e.g. 'Entity List (EL) - Bureau ...'")
    entry_type: str = Field(default="", description="'Entity', 'Individual', 'Vessel', ...")
    name: str = Field(min_length=1)
    alt_names: list[str] = []
    addresses: list[str] = []
    countries: list[str] = Field(
        default=[], description="ISO 3166-1 alpha-2 codes derived from addresses and citizenship"
    )
    programs: list[str] = []
    license_requirement: str = ""
    license_policy: str = ""


class SnapshotInfo(BaseModel):
    """One imported version of a screening list; exactly one is active at a time."""

    id: int
    source_format: str = Field(description="'csl' or 'sdn'")
    file_name: str
    row_count: int
    content_hash: str = Field(description="SHA-256 of the imported file content, hex")
    imported_by: str
    imported_at: datetime
    active: bool
