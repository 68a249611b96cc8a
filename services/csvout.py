"""Every CSV exportflow writes goes through here, so no cell can run as a spreadsheet formula.

A record export or an import report holds names people typed or uploaded. A spreadsheet that
opens the file runs a cell beginning with `=`, `+`, `-` or `@` (and some a tab, carriage return
or NUL first) as a formula: `=HYPERLINK(...)` leaks data, `=cmd|' /C calc'!A0` starts a
program. As OWASP advises, such a cell is written with a single quote in front, which a
spreadsheet shows as text. Leading spaces do not hide a trigger (some spreadsheets trim them).

Numbers stay numbers: a value of a numeric type, or text that is wholly a plain decimal number
(`-12.50`, `+3`, `-1e5`), is written as it is. Such a cell is read as a number and cannot hold
a formula, and a quote would turn a negative amount into text. Anything else that starts like
a formula (`-1+1`, `-A1`, `@SUM(A1)`) is quoted, whichever column it is in.

Reading is unaffected: the import keeps what it reads, quote or not, as plain text.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal

TRIGGERS = frozenset("=+-@\t\r\0")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def safe_cell(value: object) -> str:
    """The text to write for one cell: `None` is empty, formula-like text gets a quote."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal):
        return str(value)
    text = str(value)
    first = text.lstrip(" ")[:1]
    if first in TRIGGERS and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_text(rows: Iterable[Sequence[object]]) -> str:
    """Rows (a header first, if any) as CSV text, every cell through `safe_cell`."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return out.getvalue()
