"""What is wrong with a new subscription, in words naming the field (API and CLI alike)."""

from __future__ import annotations

from schemas.webhooks import EVENT_ACTIONS, WebhookCreate
from services.webhooks.targets import TargetRefused, parse_url, resolve
from workflows.catalog import load_catalog

FieldPath = tuple[str | int, ...]


async def problem(body: WebhookCreate, *, allow_private: bool) -> tuple[FieldPath, str] | None:
    """The first problem as (field path, message), or None when the subscription is fine."""
    try:
        await resolve(parse_url(body.url), allow_private=allow_private)
    except TargetRefused as exc:
        return ("url",), str(exc)
    for i, action in enumerate(body.events):
        if action not in EVENT_ACTIONS:
            known = ", ".join(sorted(EVENT_ACTIONS))
            return ("events", i), f"unknown action '{action}' (known: {known})"
    products = load_catalog().products
    for i, sku in enumerate(body.skus):
        if sku not in products:
            return ("skus", i), f"unknown SKU '{sku}' (known: {', '.join(products)})"
    return None
