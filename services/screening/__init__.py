"""Screening lists: parse the published formats (CSL, OFAC SDN) and store them as snapshots.

This module holds what both parsers share: the error a bad file raises, UTF-8 decoding that
names the offending line, CSV row reading with line numbers, and country-name mapping.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from functools import lru_cache

import pycountry

# OFAC and trade.gov spell some countries in ways pycountry does not know. Regions that are no
# ISO country (Kosovo's "XK" is user-assigned, "Region: Kafia Kingi" is disputed) map to nothing.
COUNTRY_NAME_CODES: dict[str, str] = {
    "bahamas, the": "BS",
    "brunei": "BN",
    "burma": "MM",
    "congo, democratic republic of the": "CD",
    "congo, republic of the": "CG",
    "cote d ivoire": "CI",
    "korea, north": "KP",
    "korea, south": "KR",
    "macau": "MO",
    "palestinian": "PS",
    "west bank": "PS",
    "region: gaza": "PS",
    "region: crimea": "UA",
    "region: northern mali": "ML",
    "russia": "RU",
    "the gambia": "GM",
    "turkey": "TR",
}

# OFAC's legacy files end with a DOS end-of-file character on a line of its own.
_EOF_MARK = "\x1a"


class ListFormatError(ValueError):
    """A screening-list file that cannot be imported; the whole file is refused."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


def decode_utf8(data: bytes, *, where: str = "") -> str:
    """The file's text; a byte sequence that is not UTF-8 is refused with its line number."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ListFormatError(line, f"{where}not UTF-8 (byte {exc.start})") from exc


def read_rows(text: str, *, where: str = "") -> Iterator[tuple[int, list[str]]]:
    """CSV rows with the line each starts on, skipping blank lines and an end-of-file mark."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    consumed = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ListFormatError(consumed + 1, f"{where}malformed CSV: {exc}") from exc
        start, consumed = consumed + 1, reader.line_num
        if row and row != [_EOF_MARK]:
            yield start, row


def split_items(value: str) -> list[str]:
    """Items of a `;`-separated field, stripped, without empties or a Federal Register 'and'."""
    items: list[str] = []
    for raw in value.split(";"):
        item = " ".join(raw.split())
        # Entity List text reads "alias one; alias two; and alias three".
        if items and item.lower().startswith("and "):
            item = item[4:].lstrip()
        if item:
            items.append(item)
    return items


@lru_cache(maxsize=4096)
def country_code(text: str) -> str | None:
    """ISO 3166-1 alpha-2 code for a code or country name as the lists write it, else None."""
    value = " ".join(text.split())
    if not value:
        return None
    if len(value) == 2 and value.isalpha():
        upper = value.upper()
        return upper if pycountry.countries.get(alpha_2=upper) is not None else None
    known = COUNTRY_NAME_CODES.get(value.casefold())
    if known is not None:
        return known
    try:
        return str(pycountry.countries.lookup(value).alpha_2)
    except LookupError:
        return None


def unique(values: list[str]) -> list[str]:
    """The values in first-seen order, each once."""
    return list(dict.fromkeys(values))
