"""The import report as CSV: one line per order of the file, then one per error."""

from __future__ import annotations

from services.csvout import csv_text
from services.orders_import.book import ImportReport

REPORT_COLUMNS = ("kind", "rows", "external_ref", "status", "order_id", "field", "message")


def report_csv(report: ImportReport) -> str:
    """The report as a spreadsheet-safe CSV (the same cells as the JSON report)."""
    rows: list[tuple[object, ...]] = [REPORT_COLUMNS]
    for result in report.results:
        where = " ".join(str(r) for r in result.rows)
        rows.append(("order", where, result.external_ref, result.status, result.order_id, "", ""))
    for error in report.errors:
        rows.append(("error", error.row, "", "", "", error.field, error.message))
    return csv_text(rows)
