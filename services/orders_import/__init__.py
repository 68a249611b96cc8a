"""Bulk import of an order book from CSV, shared by `POST /orders/import` and the CLI."""

from services.orders_import.book import ImportReport, OrderResult, import_csv
from services.orders_import.parse import COLUMNS, OPTIONAL_COLUMNS, RowError

__all__ = ["COLUMNS", "OPTIONAL_COLUMNS", "ImportReport", "OrderResult", "RowError", "import_csv"]
