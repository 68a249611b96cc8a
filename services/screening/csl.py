"""Parse the trade.gov Consolidated Screening List (CSL) CSV into listed parties."""

from __future__ import annotations

import hashlib

from schemas.screening import ListedParty
from services.screening import (
    ListFormatError,
    country_code,
    decode_utf8,
    read_rows,
    split_items,
    unique,
)

__all__ = ["REQUIRED_COLUMNS", "ListFormatError", "is_csl_header", "parse_csl"]

REQUIRED_COLUMNS: tuple[str, ...] = (
    "source",
    "entity_number",
    "type",
    "programs",
    "name",
    "addresses",
    "license_requirement",
    "license_policy",
    "alt_names",
)
"""Columns a CSL file must have; `_id`, `citizenships` and `nationalities` are used if present."""


def is_csl_header(line: str) -> bool:
    """True if a CSV header line has every column the CSL parser needs."""
    columns = {column.strip().strip('"') for column in line.strip().split(",")}
    return set(REQUIRED_COLUMNS) <= columns


def parse_csl(data: bytes) -> list[ListedParty]:
    """All rows of a CSL CSV file; a bad file is refused whole with `ListFormatError`."""
    rows = read_rows(decode_utf8(data))
    first = next(rows, None)
    if first is None:
        raise ListFormatError(1, "empty file: expected the CSL header row")
    header_line, header = first
    columns = _column_positions(header_line, header)
    parties: list[ListedParty] = []
    first_seen: dict[str, int] = {}
    for line, row in rows:
        if len(row) != len(header):
            raise ListFormatError(line, f"expected {len(header)} columns, found {len(row)}")
        party = _party(line, {name: row[i] for name, i in columns.items()})
        if party.entry_id in first_seen:
            earlier = first_seen[party.entry_id]
            reason = f"duplicate entry id {party.entry_id!r} (first on line {earlier})"
            raise ListFormatError(line, reason)
        first_seen[party.entry_id] = line
        parties.append(party)
    return parties


def _column_positions(line: int, header: list[str]) -> dict[str, int]:
    positions = {name.strip(): i for i, name in enumerate(header)}
    missing = [name for name in REQUIRED_COLUMNS if name not in positions]
    if missing:
        raise ListFormatError(line, f"not a CSL header: missing columns {', '.join(missing)}")
    wanted = (*REQUIRED_COLUMNS, "_id", "citizenships", "nationalities")
    return {name: positions[name] for name in wanted if name in positions}


def _party(line: int, field: dict[str, str]) -> ListedParty:
    name = " ".join(field["name"].split())
    if not name:
        raise ListFormatError(line, "empty name")
    source = field["source"].strip()
    addresses = split_items(field["addresses"])
    return ListedParty(
        entry_id=_entry_id(field, source, name),
        source=source,
        entry_type=field["type"].strip(),
        name=name,
        alt_names=split_items(field["alt_names"]),
        addresses=addresses,
        countries=_countries(addresses, field),
        programs=split_items(field["programs"]),
        license_requirement=field["license_requirement"].strip(),
        license_policy=field["license_policy"].strip(),
    )


def _entry_id(field: dict[str, str], source: str, name: str) -> str:
    # `_id` is the CSL's own stable key; without it the Treasury number, else a hash of what
    # identifies the row, so a whitelisting against this entry survives a re-import.
    explicit = field.get("_id", "").strip() or field["entity_number"].strip()
    if explicit:
        return explicit
    return hashlib.sha256(f"{source}\n{name}".encode()).hexdigest()[:32]


def _countries(addresses: list[str], field: dict[str, str]) -> list[str]:
    # CSL addresses end with the country code ("..., Xian, China, CN"); individuals also carry
    # citizenships and nationalities as codes.
    candidates = [address.rsplit(",", 1)[-1] for address in addresses]
    for column in ("citizenships", "nationalities"):
        candidates.extend(split_items(field.get(column, "")))
    codes = (country_code(candidate) for candidate in candidates)
    return unique([code for code in codes if code is not None])
