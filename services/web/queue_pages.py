"""The compliance queue: what waits on compliance, oldest first, decided from the queue."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from schemas.actions import Action
from services.web import forms
from services.web.api_client import ConsoleApi
from services.web.rules import actions_for
from services.web.session import User
from services.web.templating import render

router = APIRouter(include_in_schema=False)

# The decisions offered in the queue itself; everything else is on the order's page.
QUEUE_ACTIONS = (Action.APPROVE, Action.CLEAR_SCREENING, Action.REJECT)


def _overdue(task: dict[str, Any]) -> bool:
    if task.get("overdue"):
        return True
    due = task.get("due_at")
    return bool(due) and datetime.fromisoformat(str(due)) < datetime.now(UTC)


@router.get("/queue")
async def queue(request: Request, user: User) -> Response:
    """Orders waiting on compliance, the longest-waiting first, with due times when set."""
    api = ConsoleApi(request, user)
    answer = await api.get("/tasks", role="compliance", limit=200)
    if not answer.ok:
        return render(request, "error.html", user, answer.status, message=answer.detail)
    rows = []
    for task in answer.body["items"]:
        order = await api.get(f"/orders/{task['order_id']}")
        allowed = actions_for(order.body, user.actor) if order.ok else []
        offered = [a for a in QUEUE_ACTIONS if a in allowed]
        rows.append(
            {
                "task": task,
                "order": order.body if order.ok else {},
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
    done = request.query_params.get("done", "")
    flash = f"Done: {forms.button(Action(done))}." if done in Action._value2member_map_ else None
    return render(request, "queue.html", user, nav="queue", rows=rows, flash=flash)
