"""The impact preview as CSV: one row per line of every order whose outcome changes."""

from __future__ import annotations

import csv
import io
import re

from schemas.rulesets import ImpactReport

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
_FORMULA_START = frozenset("=+-@\t\r\0")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def safe_cell(value: object) -> str:
    """A cell a spreadsheet shows as text: formula-like text gets a leading quote (OWASP).

    Customer names are typed by people; `=HYPERLINK(...)` must not run when the file is opened.
    Plain numbers stay numbers. (Branch `security` adds a shared helper for this; until it is
    on main, this one function does the same for the preview.)
    """
    text = "" if value is None else str(value)
    first = text.lstrip(" ")[:1]
    if first in _FORMULA_START and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def impact_csv(report: ImpactReport) -> str:
    """Rows of the changed orders (or all, when the report lists all), every cell made safe."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for order in report.orders:
        stops = "; ".join(
            f"{s.destination} refuses {s.sku} ({s.rule_id})" for s in order.import_stops
        )
        for line in order.lines:
            row = [
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
            writer.writerow([safe_cell(v) for v in row])
    return out.getvalue()
