"""The compliance queue: what waits on compliance, oldest first, decided from the queue."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from schemas.actions import Action
from schemas.common import Role
from services.ops import orders
from services.web import forms
from services.web.order_pages import done_message
from services.web.rules import actions_for
from services.web.session import User, app_state
from services.web.templating import render

router = APIRouter(include_in_schema=False)

# The decisions offered in the queue itself; everything else is on the order's page.
QUEUE_ACTIONS = (Action.APPROVE, Action.CLEAR_SCREENING, Action.REJECT)


def _overdue(task: dict[str, Any]) -> bool:
    if task.get("overdue"):
        return True
    due = task.get("due_at")
    return bool(due) and datetime.fromisoformat(str(due)) < datetime.now(UTC)


async def _orders(request: Request, order_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The queued orders as the API shows them; one batched read for all of them."""
    state = app_state(request)
    views = await asyncio.gather(*(state.lookups.view(order_id) for order_id in order_ids))
    return {oid: json.loads(v) for oid, v in zip(order_ids, views, strict=True) if v is not None}


@router.get("/queue")
async def queue(request: Request, user: User) -> Response:
    """Orders waiting on compliance, the longest-waiting first, with due times when set."""
    page = await orders.tasks(app_state(request), role=Role.COMPLIANCE, limit=200)
    tasks = page.model_dump(mode="json")["items"]
    found = await _orders(request, [t["order_id"] for t in tasks])
    rows = []
    for task in tasks:
        order = found.get(task["order_id"])
        allowed = actions_for(order, user.actor) if order else []
        offered = [a for a in QUEUE_ACTIONS if a in allowed]
        rows.append(
            {
                "task": task,
                "order": order or {},
                "due_at": task.get("due_at"),
                "overdue": _overdue(task),
                "panels": [
                    {
                        "action": a,
                        "button": forms.button(a),
                        "danger": a in forms.DANGER,
                        "inputs": forms.inputs_for(a),
                    }
                    for a in offered
                ],
            }
        )
    flash = done_message(request)
    return render(request, "queue.html", user, nav="queue", rows=rows, flash=flash)
