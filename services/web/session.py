"""Console sessions: the API token in an HttpOnly cookie, and double-submit CSRF tokens."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from schemas.common import Actor, Role
from services.ops.auth import AuthError
from services.ops.state import AppState

SESSION_COOKIE = "exportflow_session"
CSRF_COOKIE = "exportflow_csrf"
CSRF_FIELD = "csrf_token"
MAX_AGE = 12 * 3600


class SignInRequired(Exception):
    """No session cookie, or its token is unknown or revoked."""


class NoRole(Exception):
    """A valid token whose user holds no role any more (all revoked)."""


class CsrfRefused(Exception):
    """A form arrived without the CSRF token of this browser's session."""


@dataclass(frozen=True)
class WebUser:
    """The signed-in person: who they are, and the token their session holds."""

    actor: Actor
    token: str
    csrf: str

    @property
    def name(self) -> str:
        """The user's name."""
        return self.actor.user

    def has(self, role: Role) -> bool:
        """True when the user holds `role`."""
        return role in self.actor.roles


def app_state(request: Request) -> AppState:
    """The app's long-lived state (engine, session factories, Temporal client)."""
    state: AppState = request.app.state.exportflow
    return state


async def resolve(request: Request, token: str | None) -> Actor | None:
    """The user behind a token, by the API's own authentication; None when refused."""
    # Fresh from the database on every page: people click, they do not poll.
    try:
        return await app_state(request).auth.authenticate(token, fresh=True)
    except AuthError:
        return None


async def web_user(request: Request) -> WebUser:
    """The signed-in user of this request; `SignInRequired` otherwise."""
    token = request.cookies.get(SESSION_COOKIE)
    actor = await resolve(request, token)
    if actor is None or token is None:
        raise SignInRequired
    if not actor.roles:  # as the API's AnyRole: reading needs some role
        raise NoRole
    return WebUser(actor=actor, token=token, csrf=request.cookies.get(CSRF_COOKIE, ""))


User = Annotated[WebUser, Depends(web_user)]


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF field matches this browser's CSRF cookie."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    kept = request.cookies.get(CSRF_COOKIE, "")
    # A forged cross-site form cannot read the cookie, so it cannot echo the token back.
    if not isinstance(sent, str) or not kept or not hmac.compare_digest(sent, kept):
        raise CsrfRefused
    return form


def new_csrf() -> str:
    """A fresh CSRF token."""
    return secrets.token_urlsafe(32)


def _cookie(response: Response, request: Request, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        max_age=MAX_AGE,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def set_csrf(response: Response, request: Request, csrf: str) -> None:
    """Keep a CSRF token (before sign-in, so the sign-in form is protected too)."""
    _cookie(response, request, CSRF_COOKIE, csrf)


def start_session(response: Response, request: Request, token: str) -> None:
    """Sign in: keep the token, and rotate the CSRF token."""
    _cookie(response, request, SESSION_COOKIE, token)
    set_csrf(response, request, new_csrf())


def end_session(response: Response) -> None:
    """Sign out: forget both cookies."""
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, path="/", httponly=True, samesite="strict")


def safe_next(target: str | None, default: str = "/orders") -> str:
    """A local path to go to after a form; anything else (another site) becomes `default`."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return default
