"""Parse OFAC's legacy SDN CSV triple (sdn.csv, alt.csv, add.csv) into listed parties."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from schemas.screening import ListedParty
from services.screening import ListFormatError, country_code, decode_utf8, read_rows, unique

SOURCE = "Specially Designated Nationals (SDN) - Treasury Department"
"""The source name the CSL uses for the same list, so hits read alike from either format."""

FILE_NAMES: tuple[str, str, str] = ("sdn.csv", "alt.csv", "add.csv")

# Column counts of the legacy format: sdn (ent_num, name, type, program, title, call sign,
# vessel type, tonnage, GRT, flag, owner, remarks), alt (ent_num, alt_num, type, name,
# remarks), add (ent_num, add_num, address, city/state/postal code, country, remarks).
_SDN_COLUMNS, _ALT_COLUMNS, _ADD_COLUMNS = 12, 5, 6
_EMPTY = "-0-"  # OFAC's marker for an empty field, written "-0- " with a trailing space
_PROGRAM_SPLIT = re.compile(r"\]\s*\[")


@dataclass
class _Entry:
    name: str
    entry_type: str
    programs: list[str]
    alt_names: list[str] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)


def parse_sdn(sdn: bytes, alt: bytes, add: bytes) -> list[ListedParty]:
    """Entries joined with their aliases and addresses; a bad file is refused whole."""
    entries = _entries(sdn)
    for line, ent_num, row in _rows(alt, "alt.csv", _ALT_COLUMNS, entries):
        alias = _value(row[3])
        if not alias:
            raise ListFormatError(line, "alt.csv: empty alias name")
        entries[ent_num].alt_names.append(alias)
    for _line, ent_num, row in _rows(add, "add.csv", _ADD_COLUMNS, entries):
        parts = [_value(row[i]) for i in (2, 3, 4)]
        entry = entries[ent_num]
        if any(parts):
            entry.addresses.append(", ".join(part for part in parts if part))
        code = country_code(parts[2])
        if code is not None:
            entry.countries.append(code)
    return [_party(ent_num, entry) for ent_num, entry in entries.items()]


def _entries(data: bytes) -> dict[str, _Entry]:
    entries: dict[str, _Entry] = {}
    for line, row in _checked_rows(data, "sdn.csv", _SDN_COLUMNS):
        ent_num, name = row[0].strip(), _value(row[1])
        if ent_num in entries:
            raise ListFormatError(line, f"sdn.csv: duplicate ent_num {ent_num}")
        if not name:
            raise ListFormatError(line, "sdn.csv: empty name")
        programs = [p.strip(" []") for p in _PROGRAM_SPLIT.split(_value(row[3]))]
        entries[ent_num] = _Entry(
            name=name,
            entry_type=_value(row[2]).capitalize() or "Entity",
            programs=[p for p in programs if p],
        )
    return entries


def _rows(
    data: bytes, where: str, columns: int, entries: dict[str, _Entry]
) -> Iterator[tuple[int, str, list[str]]]:
    for line, row in _checked_rows(data, where, columns):
        ent_num = row[0].strip()
        if ent_num not in entries:
            raise ListFormatError(line, f"{where}: ent_num {ent_num} is not in sdn.csv")
        yield line, ent_num, row


def _checked_rows(data: bytes, where: str, columns: int) -> Iterator[tuple[int, list[str]]]:
    for line, row in read_rows(decode_utf8(data, where=f"{where}: "), where=f"{where}: "):
        if len(row) != columns:
            raise ListFormatError(line, f"{where}: expected {columns} columns, found {len(row)}")
        if not row[0].strip().isdigit():
            raise ListFormatError(line, f"{where}: ent_num {row[0].strip()!r} is not a number")
        yield line, row


def _value(raw: str) -> str:
    text = " ".join(raw.split())
    return "" if text == _EMPTY else text


def _party(ent_num: str, entry: _Entry) -> ListedParty:
    return ListedParty(
        entry_id=ent_num,
        source=SOURCE,
        entry_type=entry.entry_type,
        name=entry.name,
        alt_names=entry.alt_names,
        addresses=entry.addresses,
        countries=unique(entry.countries),
        programs=entry.programs,
    )
