"""The new-order form (sales ops), validated field by field with the API's own model."""

from __future__ import annotations

import secrets

import pycountry
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from schemas.common import Role
from schemas.orders import BookOrderRequest
from services.ops import orders
from services.web import forms
from services.web.failures import REFUSALS, failure
from services.web.session import User, WebUser, app_state, checked_form
from services.web.templating import render
from workflows.catalog import load_catalog

router = APIRouter(include_in_schema=False)

BLANK_LINES = 3


def _form(
    request: Request,
    user: WebUser,
    values: dict[str, str],
    errors: dict[str, str],
    key: str,
    status: int = 200,
    error: str = "",
) -> Response:
    products = load_catalog().products
    return render(
        request,
        "new_order.html",
        user,
        status,
        nav="new",
        values=values,
        errors=errors,
        error=error,
        idempotency_key=key,
        lines=max(forms.line_count(values), 1) + (0 if values else BLANK_LINES - 1),
        products=[(sku, p.name) for sku, p in sorted(products.items())],
        countries=sorted((c.alpha_2, c.name) for c in pycountry.countries),
    )


def _refuse(request: Request, user: WebUser) -> Response | None:
    if user.has(Role.SALES_OPS):
        return None
    return render(request, "error.html", user, 403, message="Booking orders needs sales ops.")


@router.get("/orders/new")
async def new_order(request: Request, user: User) -> Response:
    """An empty booking form."""
    return _refuse(request, user) or _form(request, user, {}, {}, secrets.token_urlsafe(16))


@router.post("/orders/new")
async def book(request: Request, user: User) -> Response:
    """Book as the API does; field errors are shown beside their inputs."""
    form = await checked_form(request)
    if refused := _refuse(request, user):
        return refused
    values = forms.booking_values(form)
    # The key makes a double-submitted form book one order, as the API's replays do.
    key = str(form.get("idempotency_key") or "") or secrets.token_urlsafe(16)
    errors = forms.booking_errors(values)
    if errors:
        return _form(request, user, values, errors, key, 422)
    try:
        body = BookOrderRequest.model_validate(forms.booking_body(values))
        view, _ = await orders.book_order(
            app_state(request), body, user=user.name, key=f"console:{key}"
        )
    except REFUSALS as exc:
        failed = failure(exc)
        detail = "" if failed.fields else failed.detail
        return _form(request, user, values, failed.fields, key, failed.status, detail)
    return RedirectResponse(f"/orders/{view.id}?done=book", status_code=303)
