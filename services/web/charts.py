"""Small charts drawn as inline SVG on the server: no script, no chart library."""

from __future__ import annotations

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


def state_totals(
    totals: list[tuple[str, int, Decimal]], query: dict[str, str], selected: str | None
) -> Markup:
    """Orders per state: a count bar and a value bar per state, each row a filter link."""
    if not totals:
        return Markup('<p class="empty">No orders match.</p>')
    top_count = max(c for _, c, _ in totals) or 1
    top_value = max(v for _, _, v in totals) or Decimal(1)
    row_h, width = 26, 720
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {row_h * len(totals) + 22}" '
        'aria-label="Orders and value by state">',
        '<text x="170" y="12" class="axis">orders</text>',
        '<text x="400" y="12" class="axis">value</text>',
    ]
    for i, (state, count, value) in enumerate(totals):
        y = 20 + i * row_h
        fill = TONE_FILL[STATE_TONE.get(state, "neutral")]
        count_w = max(2, int(150 * count / top_count))
        value_w = max(2, int(200 * value / top_value))
        href = "/orders?" + urlencode(query | {"state": state})
        weight = " selected" if state == selected else ""
        parts += [
            f'<a href="{escape(href)}"><g class="row{weight}">',
            f"<title>{escape(state)}: {count} orders, {compact_usd(value)}</title>",
            f'<text x="0" y="{y + 15}" class="label">{escape(state)}</text>',
            f'<rect x="170" y="{y + 4}" width="{count_w}" height="14" rx="2" fill="{fill}" '
            'opacity="0.55"/>',
            f'<text x="{176 + count_w}" y="{y + 15}" class="num">{count:,}</text>',
            f'<rect x="400" y="{y + 4}" width="{value_w}" height="14" rx="2" fill="{fill}"/>',
            f'<text x="{406 + value_w}" y="{y + 15}" class="num">{compact_usd(value)}</text>',
            "</g></a>",
        ]
    parts.append("</svg>")
    return Markup("".join(parts))


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
