"""The impact preview as CSV: one row per line of every order whose outcome changes."""

from __future__ import annotations

from schemas.rulesets import ImpactReport
from services.csvout import csv_text

HEADER = [
    "order_id",
    "external_ref",
    "customer",
    "destination",
    "state",
    "to_state",
    "change",
    "sku",
    "from_rule",
    "to_rule",
    "from_policy",
    "to_policy",
    "line_change",
    "order_units",
    "order_value_usd",
    "import_stop",
    "from_ruleset",
    "to_ruleset",
]


def impact_csv(report: ImpactReport) -> str:
    """Rows of the changed orders (or all, when the report lists all); formula-like cells quoted
    by the one CSV writer (services/csvout.py): customer names are typed by people."""
    return csv_text([HEADER, *_rows(report)])


def _rows(report: ImpactReport) -> list[list[object]]:
    rows: list[list[object]] = []
    for order in report.orders:
        stops = "; ".join(
            f"{s.destination} refuses {s.sku} ({s.rule_id})" for s in order.import_stops
        )
        for line in order.lines:
            row: list[object] = [
                order.order_id,
                order.external_ref,
                order.customer,
                order.destination,
                order.state.value,
                order.to_state.value,
                order.change.value,
                line.sku,
                line.from_rule,
                line.to_rule,
                line.from_policy.value,
                line.to_policy.value,
                line.change.value,
                order.units,
                f"{order.value:.2f}",
                stops,
                order.from_ruleset,
                order.to_ruleset,
            ]
            rows.append(row)
    return rows
