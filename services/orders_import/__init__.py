"""Bulk import of an order book from CSV, shared by `POST /orders/import` and the CLI."""

from services.orders_import.book import ImportReport, OrderResult, import_csv
from services.orders_import.parse import COLUMNS, OPTIONAL_COLUMNS, RowError
from services.orders_import.report import report_csv

__all__ = [
    "COLUMNS",
    "OPTIONAL_COLUMNS",
    "ImportReport",
    "OrderResult",
    "RowError",
    "import_csv",
    "report_csv",
]
