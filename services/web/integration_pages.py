"""Integrations: webhook subscriptions, their health and recent deliveries, and the change feed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from schemas.common import Role
from schemas.webhooks import EVENT_ACTIONS, WebhookCreate
from services.ops import webhooks as ops
from services.ops.errors import InvalidInput, NotFound, status_of
from services.web.session import User, WebUser, app_state, checked_form
from services.web.templating import render

router = APIRouter(include_in_schema=False)
RECENT = 10  # deliveries shown per subscription


def _words(value: object) -> list[str]:
    """`"ship, deliver"` -> `["ship", "deliver"]`."""
    return [w.strip() for w in str(value or "").replace(",", " ").split() if w.strip()]


def _refused(request: Request, user: WebUser) -> Response | None:
    # The same roles as the API's webhook routes.
    if user.actor.roles & {Role.COMPLIANCE, Role.INTEGRATION}:
        return None
    message = f"this needs the compliance or integration role; {user.actor.user} has not got it"
    return render(request, "error.html", user, 403, message=message)


async def _page(request: Request, user: WebUser, status: int = 200, **context: Any) -> Response:
    if (refused := _refused(request, user)) is not None:
        return refused
    state = app_state(request)
    subs = []
    for hook in await ops.subscriptions(state):
        log = await ops.deliveries(state, hook.id, limit=RECENT)
        subs.append(
            {
                "hook": hook.model_dump(mode="json"),
                "deliveries": [d.model_dump(mode="json") for d in log],
            }
        )
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
    if (refused := _refused(request, user)) is not None:
        return refused
    errors: dict[str, str] = {}
    try:
        created = await ops.create(
            app_state(request), WebhookCreate.model_validate(body), user=user.actor.user
        )
    except ValidationError as exc:
        errors = {str(e["loc"][0]): str(e["msg"]) for e in exc.errors() if e["loc"]}
    except InvalidInput as exc:
        errors = {str(exc.loc[1] if len(exc.loc) > 1 else exc.loc[0]): exc.message}
    else:
        return await _page(request, user, 201, secret=created.model_dump(mode="json"))
    return await _page(request, user, 422, values=values, errors=errors, error="")


@router.post("/integrations/webhooks/{webhook_id}/delete")
async def delete(request: Request, user: User, webhook_id: str) -> Response:
    """Unsubscribe."""
    await checked_form(request)
    if (refused := _refused(request, user)) is not None:
        return refused
    try:
        await ops.remove(app_state(request), webhook_id)
    except NotFound as exc:
        return render(request, "error.html", user, status_of(exc), message=exc.message)
    return RedirectResponse("/integrations?done=deleted", status_code=303)


@router.post("/integrations/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver")
async def redeliver(request: Request, user: User, webhook_id: str, delivery_id: str) -> Response:
    """Send a delivery again under its webhook-id."""
    await checked_form(request)
    if (refused := _refused(request, user)) is not None:
        return refused
    try:
        await ops.redeliver(app_state(request), webhook_id, delivery_id)
    except NotFound as exc:
        return render(request, "error.html", user, status_of(exc), message=exc.message)
    return RedirectResponse("/integrations?done=redeliver", status_code=303)
