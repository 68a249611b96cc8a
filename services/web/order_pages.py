"""The order book, an order's page, and the actions taken from it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from schemas.actions import Action
from schemas.common import Role
from schemas.orders import Determination, OrderState
from services.db import orders_repo
from services.ops import actions, documents, filing, orders
from services.ops.errors import NotFound
from services.web import charts, forms
from services.web.failures import REFUSALS, failure
from services.web.rules import actions_for
from services.web.session import User, WebUser, app_state, checked_form, safe_next
from services.web.templating import render
from workflows.catalog import load_catalog
from workflows.rules.license_input import licensed_among

router = APIRouter(include_in_schema=False)

PER_PAGE = 25
TRANSIENT = {"BOOKED", "SCREENING"}


@dataclass(frozen=True)
class BookQuery:
    """The order book's filters, sort and page, as they appear in its URL."""

    state: str = ""
    sku: str = ""
    destination: str = ""
    q: str = ""
    sort: str = "created"
    dir: str = "desc"
    page: int = 1

    def params(self, **changes: Any) -> dict[str, str]:
        """Non-default query parameters, with `changes` applied, for links."""
        merged = replace(self, **changes)
        default = BookQuery()
        return {k: str(v) for k, v in vars(merged).items() if v != getattr(default, k) and v != ""}


def _query(params: dict[str, str]) -> BookQuery:
    # Bad values fall back to the default rather than failing the page.
    state = params.get("state", "")
    page = params.get("page", "1")
    dest = params.get("destination", "").strip().upper()
    return BookQuery(
        state=state if state in OrderState.__members__ else "",
        sku=params.get("sku", "").strip()[:64],
        destination=dest if len(dest) == 2 and dest.isalpha() else "",
        q=params.get("q", "").strip()[:100],
        sort=params.get("sort", "") if params.get("sort") in orders_repo.SORT_KEYS else "created",
        dir="asc" if params.get("dir") == "asc" else "desc",
        page=int(page) if page.isdigit() and 0 < int(page) < 10**6 else 1,
    )


async def _load_book(request: Request, query: BookQuery) -> dict[str, Any]:
    filters = orders_repo.OrderFilter(
        state=OrderState(query.state) if query.state else None,
        sku=query.sku or None,
        destination=query.destination or None,
        q=query.q or None,
    )
    page = await orders.book_page(
        app_state(request),
        filters=filters,
        sort=query.sort,
        descending=query.dir == "desc",
        offset=(query.page - 1) * PER_PAGE,
        limit=PER_PAGE,
    )
    totals = [(s.value, count, value) for s, count, value in page.by_state]
    return {"items": page.items, "total": page.total, "totals": totals}


@router.get("/orders")
async def order_book(request: Request, user: User) -> Response:
    """The order book: filters, sorting, pages, and totals by state."""
    query = _query(dict(request.query_params))
    book = await _load_book(request, query)
    pages = max(1, -(-book["total"] // PER_PAGE))
    chart = charts.state_totals(book["totals"], query.params(state="", page=1), query.state)
    return render(
        request,
        "orders.html",
        user,
        nav="orders",
        query=query,
        book=book,
        pages=pages,
        chart=chart,
        states=[s.value for s in OrderState],
        skus=sorted(load_catalog().products),
        link=lambda **c: "/orders?" + urlencode(query.params(**c)),
    )


def _ordered(actions: list[Action], order: dict[str, Any]) -> list[Action]:
    """What the order waits for first, destructive actions (reject, cancel) last."""
    waiting = (order.get("waiting_for") or {}).get("actions", [])
    return sorted(actions, key=lambda a: (a in forms.DANGER, a.value not in waiting))


def _licensed(order: dict[str, Any]) -> list[str]:
    """The order's licensed SKUs, by the same rule the workflow draws with."""
    det = order.get("determination")
    determination = Determination.model_validate(det) if det else None
    return licensed_among([str(line["sku"]) for line in order["lines"]], determination)


def left_to_ship(order: dict[str, Any]) -> dict[str, int]:
    """Units of each SKU not yet shipped, in line order."""
    left: dict[str, int] = {}
    for line in order["lines"]:
        n = int(line["quantity"]) - int(line.get("shipped", 0))
        if n > 0:
            left[str(line["sku"])] = left.get(str(line["sku"]), 0) + n
    return left


def _panels(order: dict[str, Any], user: WebUser) -> list[dict[str, Any]]:
    """A form per action the user may take now, with the inputs its API body takes."""
    licensed, left = _licensed(order), left_to_ship(order)
    panels = []
    for a in _ordered(actions_for(order, user.actor), order):
        panel: dict[str, Any] = {
            "action": a,
            "button": forms.button(a),
            "danger": a in forms.DANGER,
            "inputs": forms.inputs_for(a, licensed, left),
        }
        if a is Action.AMEND:  # its own page: a form, then the diff to confirm
            panel["link"] = f"/orders/{order['id']}/amend"
            panel["hint"] = "change lines, parties, date or end use; you see the diff first"
        panels.append(panel)
    return panels


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def evidence_of(order: dict[str, Any], documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the order's rules require before shipment, and whether it is on the order.

    A per-shipment document counts only if uploaded after the last shipment, as `ship` checks.
    """
    det = order.get("determination")
    if not det:
        return []
    shipments = order.get("shipments") or []
    last = max((_at(s["shipped_at"]) for s in shipments), default=None)
    found = []
    for req in Determination.model_validate(det).evidence():
        docs = [d for d in documents if d["kind"] == req.kind]
        if req.per_shipment and last is not None:
            docs = [d for d in docs if _at(d["uploaded_at"]) > last]
        found.append(
            {
                "kind": req.kind,
                "text": req.text,
                "per_shipment": req.per_shipment,
                "present": bool(docs),
            }
        )
    return found


def _uploaded(request: Request) -> str | None:
    kind = request.query_params.get("uploaded", "")
    return f"Uploaded: {kind}." if kind else None


def done_message(request: Request) -> str | None:
    """The confirmation after a redirect with `?done=ACTION`, such as "Done: Approve."."""
    done = request.query_params.get("done", "")
    return f"Done: {forms.button(Action(done))}." if done in Action._value2member_map_ else None


async def order_page(
    request: Request,
    user: WebUser,
    order_id: str,
    *,
    failed: Action | None = None,
    error: str = "",
    field_errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
    upload_error: str = "",
) -> Response:
    """An order's page; after a refused action, the API's words next to that action's form."""
    state = app_state(request)
    try:
        order = await orders.order_dict(state, order_id)
        trail = await orders.events(state, order_id)
    except REFUSALS as exc:
        refused = failure(exc)
        return render(request, "error.html", user, refused.status, message=refused.detail)
    events = trail.model_dump(mode="json")["items"]
    try:
        filed: dict[str, Any] | None = (await filing.filing(state, order_id)).model_dump(
            mode="json"
        )
    except NotFound:  # purged between the two reads
        filed = None
    try:
        listed = await documents.documents(state, order_id)
        docs = listed.model_dump(mode="json")["items"]
    except NotFound:
        docs = []
    panels = _panels(order, user)
    # A refusal of an action this user has no form for (a forged or stale post) still shows.
    shown = {p["action"] for p in panels}
    orphan = "; ".join([error, *(field_errors or {}).values()]) if failed not in shown else ""
    return render(
        request,
        "order.html",
        user,
        status,
        nav="orders",
        order=order,
        events=events,
        filing=filed,
        documents=docs,
        evidence=evidence_of(order, docs),
        upload_error=upload_error,
        can_upload=user.has(Role.SALES_OPS) or user.has(Role.COMPLIANCE),
        can_deliver=Action.DELIVER in {p["action"] for p in panels},
        panels=panels,
        failed=failed,
        error=error,
        orphan=orphan.strip("; "),
        field_errors=field_errors or {},
        values=values or {},
        entry_ids=[h["entry_id"] for h in (order.get("screening") or {}).get("hits", [])],
        flash=done_message(request) or _uploaded(request),
        auto_refresh=2 if order["state"] in TRANSIENT else 0,
    )


@router.get("/orders/{order_id}")
async def order_detail(request: Request, user: User, order_id: str) -> Response:
    """Parties, lines, determination, screening, license, timeline and this user's actions."""
    return await order_page(request, user, order_id)


@router.post("/orders/{order_id}/actions/{action}")
async def take_action(request: Request, user: User, order_id: str, action: str) -> Response:
    """Take an action as the API's route does; a refusal is shown next to the form."""
    form = await checked_form(request)
    if action not in Action._value2member_map_:
        return render(request, "error.html", user, 404, message=f"no action '{action}'")
    act = Action(action)
    body = forms.action_body(act, form)
    try:
        parsed = actions.SPECS[act].body.model_validate(body)
        await actions.take_action(app_state(request), order_id, act, user.actor, parsed)
    except REFUSALS as exc:
        refused = failure(exc)
        return await order_page(
            request,
            user,
            order_id,
            failed=act,
            error="" if refused.fields else refused.detail,
            field_errors=refused.fields,
            values=forms.refill(body),
            status=refused.status,
        )
    target = safe_next(str(form.get("next") or ""), f"/orders/{order_id}")
    sep = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{sep}done={act.value}", status_code=303)
