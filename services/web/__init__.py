"""The web console: server-rendered pages for sales ops and compliance, on the API's rules."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from services.web import (
    amend_pages,
    auth_pages,
    booking_pages,
    document_pages,
    import_pages,
    integration_pages,
    license_pages,
    order_pages,
    policy_pages,
    queue_pages,
)
from services.web.session import CsrfRefused, NoRole, SignInRequired
from services.web.templating import HERE, render


async def _sign_in_first(request: Request, _: Exception) -> Response:
    if request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/signin?next={quote(target, safe='')}", status_code=303)
    message = "Your session has ended. Sign in again, then repeat what you were doing."
    return render(request, "error.html", None, 401, message=message, nav="")


async def _csrf_refused(request: Request, _: Exception) -> Response:
    message = (
        "This form did not come from your console session (the CSRF check failed), "
        "so nothing was done. Reload the page and try again."
    )
    return render(request, "error.html", None, 403, message=message, nav="")


async def _no_role(request: Request, _: Exception) -> Response:
    message = "Your user holds no role any more. Ask an administrator for one."
    return render(request, "error.html", None, 403, message=message, nav="")


def install(app: FastAPI) -> None:
    """Serve the console at `/` and its static files at `/static`, next to the API."""
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="console-static")
    app.add_exception_handler(SignInRequired, _sign_in_first)
    app.add_exception_handler(CsrfRefused, _csrf_refused)
    app.add_exception_handler(NoRole, _no_role)
    # booking first: `/orders/new` must not be taken for an order id.
    for module in (
        auth_pages,
        booking_pages,
        amend_pages,
        document_pages,
        order_pages,
        queue_pages,
        license_pages,
        import_pages,
        policy_pages,
        integration_pages,
    ):
        app.include_router(module.router)
