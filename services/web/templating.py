"""Jinja2 templates, the filters they use, and the console's response headers."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from schemas.common import Role
from services.web.session import WebUser

HERE = Path(__file__).resolve().parent

# Everything is served from this origin: no CDN, no inline script or style.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

STATE_TONE = {
    "BOOKED": "neutral",
    "SCREENING": "neutral",
    "SCREENING_REVIEW": "warn",
    "COMPLIANCE_REVIEW": "warn",
    "AWAITING_LICENSE": "wait",
    "READY_TO_SHIP": "info",
    "SHIPPED": "info",
    "DELIVERED": "good",
    "REJECTED": "bad",
    "LICENSE_DENIED": "bad",
    "CANCELLED": "muted",
    "ON_HOLD": "hold",
}


def money(value: Any) -> str:
    """`12000.5` -> `USD 12,000.50`."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    return f"USD {amount:,.2f}"


def line_total(line: dict[str, Any]) -> Decimal:
    """Quantity times unit price of an order line, exactly."""
    return Decimal(str(line["unit_price"])) * int(line["quantity"])


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        return _when(datetime.fromisoformat(value))
    return None


def timestamp(value: Any) -> str:
    """A time as `2026-11-28 14:05 UTC`."""
    when = _when(value)
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if when else "—"


def age(value: Any) -> str:
    """How long ago: `3 d 4 h`, `2 h 10 min`, `45 s`."""
    when = _when(value)
    if when is None:
        return "—"
    seconds = int((datetime.now(UTC) - when).total_seconds())
    days, rest = divmod(max(seconds, 0), 86400)
    hours, rest = divmod(rest, 3600)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {rest // 60} min"
    return f"{rest // 60} min" if rest >= 60 else f"{rest} s"


def humanize(value: Any) -> str:
    """`COMPLIANCE_REVIEW` or `record-license` -> `Compliance review`, `Record license`."""
    text = str(value).replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:].lower()


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(["html", "svg"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        money=money, timestamp=timestamp, age=age, humanize=humanize, line_total=line_total
    )
    env.globals.update(STATE_TONE=STATE_TONE, Role=Role)
    return env


templates = Jinja2Templates(env=_environment())


def render(
    request: Request,
    name: str,
    user: WebUser | None,
    status: int = 200,
    **context: Any,
) -> Response:
    """A page, with the user, their CSRF token and the security headers."""
    context |= {
        "user": user,
        "roles": sorted(r.value for r in user.actor.roles) if user else [],
        "csrf": user.csrf if user else context.get("csrf", ""),
    }
    context.setdefault("flash", None)
    context.setdefault("nav", "")
    context.setdefault("auto_refresh", 0)
    response = templates.TemplateResponse(request, name, context, status_code=status)
    response.headers.update(SECURITY_HEADERS)
    return response
