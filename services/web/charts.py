"""Small charts drawn as inline SVG on the server: no script, no chart library."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from markupsafe import Markup, escape

from services.web.templating import STATE_TONE

# The palette of console.css, repeated here because SVG fills cannot use CSS classes under
# a strict CSP without a stylesheet rule per bar.
TONE_FILL = {
    "neutral": "#64748b",
    "warn": "#d97706",
    "wait": "#7c3aed",
    "info": "#2563eb",
    "good": "#16a34a",
    "bad": "#dc2626",
    "muted": "#9ca3af",
    "hold": "#b45309",
}


def compact_usd(amount: Decimal) -> str:
    """`1234567` -> `USD 1.23M`."""
    for size, suffix in ((Decimal(10**9), "B"), (Decimal(10**6), "M"), (Decimal(10**3), "k")):
        if abs(amount) >= size:
            return f"USD {amount / size:,.2f}{suffix}"
    return f"USD {amount:,.0f}"


@dataclass(frozen=True)
class BarRow:
    """One row of a two-bar chart: a label, a count, a value, a tone, an optional link."""

    label: str
    count: int
    value: Decimal
    tone: str
    href: str | None = None
    selected: bool = False
    key: str = ""


def _two_bars(rows: list[BarRow], aria: str, count_x: int) -> Markup:
    """A count bar and a value bar per row, as inline SVG."""
    top_count = max(r.count for r in rows) or 1
    top_value = max(r.value for r in rows) or Decimal(1)
    row_h, value_x = 26, count_x + 230
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {value_x + 320} {row_h * len(rows) + 22}" '
        f'aria-label="{escape(aria)}">',
        f'<text x="{count_x}" y="12" class="axis">orders</text>',
        f'<text x="{value_x}" y="12" class="axis">value</text>',
    ]
    for i, row in enumerate(rows):
        y = 20 + i * row_h
        fill = TONE_FILL.get(row.tone, TONE_FILL["neutral"])
        count_w = max(2, int(150 * row.count / top_count))
        value_w = max(2, int(200 * row.value / top_value))
        weight = " selected" if row.selected else ""
        group = f'<g class="row{weight}" data-key="{escape(row.key or row.label)}">'
        parts += [
            f'<a href="{escape(row.href)}">{group}' if row.href else group,
            f"<title>{escape(row.label)}: {row.count} orders, {compact_usd(row.value)}</title>",
            f'<text x="0" y="{y + 15}" class="label">{escape(row.label)}</text>',
            f'<rect x="{count_x}" y="{y + 4}" width="{count_w}" height="14" rx="2" '
            f'fill="{fill}" opacity="0.55"/>',
            f'<text x="{count_x + 6 + count_w}" y="{y + 15}" class="num">{row.count:,}</text>',
            f'<rect x="{value_x}" y="{y + 4}" width="{value_w}" height="14" rx="2" fill="{fill}"/>',
            f'<text x="{value_x + 6 + value_w}" y="{y + 15}" class="num">'
            f"{compact_usd(row.value)}</text>",
            "</g></a>" if row.href else "</g>",
        ]
    parts.append("</svg>")
    return Markup("".join(parts))


def state_totals(
    totals: list[tuple[str, int, Decimal]], query: dict[str, str], selected: str | None
) -> Markup:
    """Orders per state: a count bar and a value bar per state, each row a filter link."""
    if not totals:
        return Markup('<p class="empty">No orders match.</p>')
    rows = [
        BarRow(
            label=state,
            count=count,
            value=value,
            tone=STATE_TONE.get(state, "neutral"),
            href="/orders?" + urlencode(query | {"state": state}),
            selected=state == selected,
        )
        for state, count, value in totals
    ]
    return _two_bars(rows, "Orders and value by state", 170)


def usage_bar(used: Decimal | int, total: Decimal | int, tone: str = "info") -> Markup:
    """A bar: the used part of `total` filled, the rest left pale."""
    share = float(used) / float(total) if total else 0.0
    share = min(max(share, 0.0), 1.0)
    # Used up is worth noticing, not an error: amber, not red.
    fill = TONE_FILL["warn"] if share >= 0.999 else TONE_FILL[tone]
    used_w = round(200 * share, 1)
    return Markup(
        '<svg class="bar" viewBox="0 0 200 10" preserveAspectRatio="none" role="img" '
        f'aria-label="{share:.0%} used">'
        '<rect x="0" y="0" width="200" height="10" rx="3" fill="#e5e7eb"/>'
        f'<rect x="0" y="0" width="{used_w}" height="10" rx="3" fill="{fill}"/></svg>'
    )


CHANGE_TONE = {
    "import_stopped": "bad",
    "compliance_review_needed": "warn",
    "license_newly_required": "wait",
    "license_no_longer_required": "good",
    "policy_changed": "info",
    "import_stop_lifted": "good",
    "unchanged": "muted",
}


def change_totals(totals: list[tuple[str, int, Decimal]]) -> Markup:
    """Open orders by outcome change under a rule set: an orders bar and a value bar each."""
    if not totals:
        return Markup('<p class="empty">No open orders.</p>')
    rows = [
        BarRow(
            label=change.replace("_", " ").capitalize(),
            count=count,
            value=value,
            tone=CHANGE_TONE.get(change, "neutral"),
            key=change,
        )
        for change, count, value in totals
    ]
    return _two_bars(rows, "Open orders and their value by outcome change", 210)
