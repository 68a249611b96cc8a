"""Signing in with a token, and out."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.web import session
from services.web.templating import render

router = APIRouter(include_in_schema=False)


def _signin_page(request: Request, next_: str, error: str = "", status: int = 200) -> Response:
    csrf = request.cookies.get(session.CSRF_COOKIE) or session.new_csrf()
    response = render(
        request, "signin.html", None, status, csrf=csrf, next=next_, error=error, nav=""
    )
    session.set_csrf(response, request, csrf)
    return response


@router.get("/")
async def home() -> Response:
    """The order book is the console's front page."""
    return RedirectResponse("/orders", status_code=303)


@router.get("/signin")
async def signin_form(request: Request) -> Response:
    """The sign-in form."""
    return _signin_page(request, session.safe_next(request.query_params.get("next")))


@router.post("/signin")
async def signin(request: Request) -> Response:
    """Check the token the way the API does, then keep it in an HttpOnly cookie."""
    form = await session.checked_form(request)
    token = str(form.get("token") or "").strip()
    next_ = session.safe_next(str(form.get("next") or ""))
    if await session.resolve(request, token) is None:
        refused = "This token is unknown, has expired or has been revoked."
        return _signin_page(request, next_, refused, 401)
    response = RedirectResponse(next_, status_code=303)
    session.start_session(response, request, token)
    return response


@router.post("/signout")
async def signout(request: Request) -> Response:
    """Forget the session in this browser."""
    await session.checked_form(request)
    response = RedirectResponse("/signin", status_code=303)
    session.end_session(response)
    return response
