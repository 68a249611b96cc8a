"""Integrations: webhook subscriptions, their health and recent deliveries, and the change feed."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from schemas.webhooks import EVENT_ACTIONS
from services.web.api_client import ConsoleApi
from services.web.session import User, WebUser, checked_form
from services.web.templating import render

router = APIRouter(include_in_schema=False)
RECENT = 10  # deliveries shown per subscription


def _words(value: object) -> list[str]:
    """`"ship, deliver"` -> `["ship", "deliver"]`."""
    return [w.strip() for w in str(value or "").replace(",", " ").split() if w.strip()]


async def _page(request: Request, user: WebUser, status: int = 200, **context: Any) -> Response:
    api = ConsoleApi(request, user)
    answer = await api.get("/webhooks")
    if not answer.ok:
        return render(request, "error.html", user, answer.status, message=answer.detail)
    subs = []
    for hook in answer.body["items"]:
        log = await api.get(f"/webhooks/{quote(hook['id'], safe='')}/deliveries", limit=RECENT)
        subs.append({"hook": hook, "deliveries": log.body["items"] if log.ok else []})
    context.setdefault("values", {})
    context.setdefault("errors", {})
    context.setdefault("secret", None)
    context.setdefault("error", "")
    return render(
        request,
        "integrations.html",
        user,
        status,
        nav="integrations",
        subs=subs,
        actions=sorted(EVENT_ACTIONS),
        **context,
    )


@router.get("/integrations")
async def integrations(request: Request, user: User) -> Response:
    """Subscriptions with their health and latest deliveries."""
    done = request.query_params.get("done")
    flash = {"deleted": "Subscription deleted.", "redeliver": "Delivery queued again."}.get(
        done or ""
    )
    return await _page(request, user, flash=flash)


@router.post("/integrations/webhooks")
async def create(request: Request, user: User) -> Response:
    """Subscribe a URL through the API; the secret is shown on the page this once."""
    form = await checked_form(request)
    values = {k: str(form.get(k) or "") for k in ("url", "events", "skus", "description")}
    body: dict[str, Any] = {
        "url": values["url"],
        "events": _words(values["events"]),
        "skus": _words(values["skus"]),
        "description": values["description"] or None,
    }
    answer = await ConsoleApi(request, user).post("/webhooks", body)
    if answer.ok:
        return await _page(request, user, 201, secret=answer.body)
    errors = {k.split("[")[0]: v for k, v in answer.field_errors().items()}
    error = "" if errors else answer.detail
    return await _page(request, user, answer.status, values=values, errors=errors, error=error)


@router.post("/integrations/webhooks/{webhook_id}/delete")
async def delete(request: Request, user: User, webhook_id: str) -> Response:
    """Unsubscribe."""
    await checked_form(request)
    answer = await ConsoleApi(request, user).call("DELETE", f"/webhooks/{quote(webhook_id)}")
    if not answer.ok:
        return render(request, "error.html", user, answer.status, message=answer.detail)
    return RedirectResponse("/integrations?done=deleted", status_code=303)


@router.post("/integrations/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver")
async def redeliver(request: Request, user: User, webhook_id: str, delivery_id: str) -> Response:
    """Send a delivery again under its webhook-id."""
    await checked_form(request)
    path = f"/webhooks/{quote(webhook_id)}/deliveries/{quote(delivery_id)}/redeliver"
    answer = await ConsoleApi(request, user).post(path, None)
    if not answer.ok:
        return render(request, "error.html", user, answer.status, message=answer.detail)
    return RedirectResponse("/integrations?done=redeliver", status_code=303)
