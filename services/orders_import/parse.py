"""The import file: its CSV layout, and validation of every row before anything is booked.

One row per order line; rows with the same `external_ref` form one order. Rows are validated
with the API's own `BookOrderRequest`, and every error names its row (the header is row 1) and
column.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from schemas.orders import BookOrderRequest
from services.db.models import OrderRow
from workflows.catalog import load_catalog

ORDER_COLUMNS = (
    "external_ref",
    "purchaser_name",
    "purchaser_country",
    "purchaser_address",
    "end_user_name",
    "end_user_country",
    "end_user_address",
    "end_use",
    "requested_ship_date",
)
# Columns a file may leave out entirely: parties and facts newer files carry.
EXTRA_ORDER_COLUMNS = (
    "ship_from",
    "purchaser_headquarters_country",
    "end_user_headquarters_country",
    "ultimate_consignee_name",
    "ultimate_consignee_country",
    "ultimate_consignee_address",
    "ultimate_consignee_headquarters_country",
    "intermediate_consignee_name",
    "intermediate_consignee_country",
    "intermediate_consignee_address",
)
LINE_COLUMNS = ("sku", "quantity", "unit_price")
COLUMNS = ORDER_COLUMNS + LINE_COLUMNS
ALL_COLUMNS = COLUMNS + EXTRA_ORDER_COLUMNS
OPTIONAL_COLUMNS = frozenset({"purchaser_address", "end_user_address", *EXTRA_ORDER_COLUMNS})
_PARTY_PARTS = ("name", "country", "address", "headquarters_country")
MAX_ROWS = 50_000

Status = Literal["pending", "booked", "exists", "invalid", "not_booked"]


class RowError(BaseModel):
    """One problem in the file: row number (header = 1), column and what is wrong."""

    row: int
    field: str
    message: str


@dataclass
class ParsedOrder:
    """One order of the file: its ref, its rows, its booking once valid, what became of it."""

    ref: str
    rows: list[int]
    booking: BookOrderRequest | None = None
    status: Status = "invalid"
    order_id: str | None = None
    row: OrderRow | None = field(default=None, repr=False)


def request_hash(body: BookOrderRequest) -> str:
    """The same canonical body hash the API stores, so re-imports compare equal to bookings."""
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def parse(data: bytes) -> tuple[list[ParsedOrder], list[RowError], int]:
    """Read and validate every row: the orders in file order, all errors, the row count."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return [], [RowError(row=1, field="file", message=f"not UTF-8 text: {exc.reason}")], 0
    reader = csv.DictReader(io.StringIO(text, newline=""))
    groups: dict[str, list[tuple[int, dict[str, str]]]] = {}
    errors: list[RowError] = []
    count = 0
    try:
        # Spreadsheets pad header cells; the columns are matched without surrounding spaces.
        reader.fieldnames = [name.strip() for name in reader.fieldnames or []]
        errors += _header_errors(reader.fieldnames)
        if errors:
            return [], errors, 0
        for count, record in enumerate(reader, start=1):
            if count > MAX_ROWS:
                errors.append(
                    RowError(row=count + 1, field="file", message=f"over {MAX_ROWS} rows")
                )
                break
            _collect(count + 1, record, groups, errors)
    except csv.Error as exc:
        errors.append(RowError(row=reader.line_num, field="file", message=f"not CSV: {exc}"))
    orders = []
    for ref, rows in groups.items():
        booking, problems = _validate(ref, rows)
        orders.append(
            ParsedOrder(ref, [r for r, _ in rows], booking, "pending" if booking else "invalid")
        )
        errors += problems
    return orders, sorted(errors, key=lambda e: e.row), count


def _header_errors(names: Sequence[str]) -> list[RowError]:
    missing = [
        RowError(row=1, field=c, message="missing column") for c in COLUMNS if c not in names
    ]
    unknown = [
        RowError(row=1, field=n, message=f"unknown column (expected: {', '.join(ALL_COLUMNS)})")
        for n in names
        if n not in ALL_COLUMNS
    ]
    return missing + unknown


def _collect(
    row: int,
    record: dict[str | Any, Any],
    groups: dict[str, list[tuple[int, dict[str, str]]]],
    errors: list[RowError],
) -> None:
    if None in record:  # DictReader files cells beyond the header under the key None
        errors.append(RowError(row=row, field="row", message="more cells than columns"))
    values = {c: (record.get(c) or "").strip() for c in ALL_COLUMNS}
    if not any(values.values()):
        return
    if not values["external_ref"]:
        errors.append(
            RowError(row=row, field="external_ref", message="required: it groups rows into orders")
        )
        return
    groups.setdefault(values["external_ref"], []).append((row, values))


def _validate(
    ref: str, rows: list[tuple[int, dict[str, str]]]
) -> tuple[BookOrderRequest | None, list[RowError]]:
    first_row, first = rows[0]
    errors = [
        RowError(row=row, field=c, message=f"differs from row {first_row}, the same order's first")
        for row, values in rows[1:]
        for c in ORDER_COLUMNS + EXTRA_ORDER_COLUMNS
        if values[c] != first[c]
    ]
    body: dict[str, Any] = {
        "external_ref": ref,
        "purchaser": _party(first, "purchaser"),
        "end_user": _party(first, "end_user"),
        "end_use": first["end_use"],
        "requested_ship_date": first["requested_ship_date"],
        "lines": [{c: values[c] for c in LINE_COLUMNS} for _, values in rows],
    }
    if first["ship_from"]:
        body["ship_from"] = first["ship_from"]
    if first["ultimate_consignee_name"] or first["ultimate_consignee_country"]:
        body["ultimate_consignee"] = _party(first, "ultimate_consignee")
    if first["intermediate_consignee_name"] or first["intermediate_consignee_country"]:
        body["intermediate_consignees"] = [_party(first, "intermediate_consignee")]
    booking = None
    try:
        booking = BookOrderRequest.model_validate(body)
    except ValidationError as exc:
        errors += [_row_error(tuple(e["loc"]), e["msg"], rows) for e in exc.errors()]
    products = load_catalog().products
    errors += [
        RowError(
            row=row, field="sku", message=f"unknown SKU (known: {', '.join(sorted(products))})"
        )
        for row, values in rows
        if values["sku"] and values["sku"] not in products
    ]
    return (None if errors else booking), errors


def _party(values: dict[str, str], prefix: str) -> dict[str, str]:
    party = {p: values.get(f"{prefix}_{p}", "") for p in _PARTY_PARTS}
    if not party["headquarters_country"]:
        del party["headquarters_country"]
    return party


def _row_error(loc: tuple[Any, ...], msg: str, rows: list[tuple[int, dict[str, str]]]) -> RowError:
    row, values = rows[0]
    if loc[:1] == ("lines",) and len(loc) >= 3 and isinstance(loc[1], int):
        row, values = rows[loc[1]]
        column = str(loc[2])
    elif loc == ("lines",):
        return RowError(
            row=rows[-1][0], field="external_ref", message="over 100 lines in one order"
        )
    elif loc[0] in ("purchaser", "end_user", "ultimate_consignee") and len(loc) > 1:
        column = f"{loc[0]}_{loc[1]}"
    elif loc[0] == "intermediate_consignees" and len(loc) > 2:
        column = f"intermediate_consignee_{loc[2]}"
    else:
        column = str(loc[0])
    required = column not in OPTIONAL_COLUMNS and values.get(column, "x") == ""
    return RowError(row=row, field=column, message="required" if required else _plain(msg))


def _plain(msg: str) -> str:
    return msg.removeprefix("Value error, ")
