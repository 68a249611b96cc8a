"""Dependencies: app state, database session, Temporal client and the caller."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from temporalio.client import Client

from schemas.common import Actor, Role
from services.ops.auth import AuthError, bearer_token, status_reader
from services.ops.state import AppState


async def get_state(request: Request) -> AppState:
    """The app's long-lived state."""
    state: AppState = request.app.state.exportflow
    return state


StateDep = Annotated[AppState, Depends(get_state)]


async def get_temporal(state: StateDep) -> Client:
    """The Temporal client; 503 with Retry-After while Temporal is unreachable."""
    return await state.temporal_client()


TemporalDep = Annotated[Client, Depends(get_temporal)]

# For the OpenAPI description only: the token itself is read by services.ops.auth.bearer_token,
# the same function the status fast path uses.
_bearer = HTTPBearer(auto_error=False, description="exportflow token create --user U --role R")
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _refused(exc: AuthError) -> HTTPException:
    return HTTPException(exc.status, exc.detail, headers=exc.headers)


async def current_user(request: Request, state: StateDep, _: Bearer) -> Actor:
    """The caller, from `Authorization: Bearer TOKEN`; 401 when missing, unknown or expired."""
    # Reads may be answered from the process's token cache; a change is authorised against
    # the database as it is now.
    token = bearer_token(request.headers.get("authorization"))
    try:
        return await state.auth.authenticate(token, fresh=request.method != "GET")
    except AuthError as exc:
        raise _refused(exc) from None


CurrentUser = Annotated[Actor, Depends(current_user)]


def require(*roles: Role) -> Callable[[Actor], Coroutine[Any, Any, Actor]]:
    """A dependency that lets only callers holding one of `roles` through (else 403)."""

    async def check(user: CurrentUser) -> Actor:
        if not user.roles & set(roles):
            names = " or ".join(r.value for r in roles)
            raise HTTPException(403, f"this needs the {names} role; {user.user} has not got it")
        return user

    return check


SalesOps = Annotated[Actor, Depends(require(Role.SALES_OPS))]
Compliance = Annotated[Actor, Depends(require(Role.COMPLIANCE))]
AnyRole = Annotated[Actor, Depends(require(*Role))]
# Webhook subscriptions: compliance, or the integration role of another system.
Integrator = Annotated[Actor, Depends(require(Role.COMPLIANCE, Role.INTEGRATION))]


async def reader(request: Request, _: Bearer) -> Actor:
    """Any role, for the hot status lookup: the fast path's own check (`status_reader`)."""
    state: AppState = request.app.state.exportflow
    try:
        return await status_reader(state.auth, request.headers.get("authorization"))
    except AuthError as exc:
        raise _refused(exc) from None


Reader = Annotated[Actor, Depends(reader)]
