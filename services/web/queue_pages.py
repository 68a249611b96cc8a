"""The compliance queue: what waits on compliance, oldest first, decided from the queue."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from schemas.actions import Action
from services.db import orders_repo
from services.web import forms
from services.web.api_client import ConsoleApi
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


def _orders(request: Request, order_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The queued orders as the API shows them (its own `to_view`), in one read session."""
    found = {}
    with app_state(request).read_session() as session:
        for order_id in order_ids:
            if (row := orders_repo.get_order(session, order_id)) is not None:
                found[order_id] = orders_repo.to_view(row).model_dump(mode="json")
    return found


@router.get("/queue")
async def queue(request: Request, user: User) -> Response:
    """Orders waiting on compliance, the longest-waiting first, with due times when set."""
    api = ConsoleApi(request, user)
    answer = await api.get("/tasks", role="compliance", limit=200)
    if not answer.ok:
        return render(request, "error.html", user, answer.status, message=answer.detail)
    tasks = answer.body["items"]
    orders = await run_in_threadpool(_orders, request, [t["order_id"] for t in tasks])
    rows = []
    for task in tasks:
        order = orders.get(task["order_id"])
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
