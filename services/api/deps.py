"""Dependencies: app state, database session, Temporal client and the caller."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from temporalio.client import Client

from schemas.common import Actor, Role
from services.db import auth_repo
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

_bearer = HTTPBearer(auto_error=False, description="exportflow token create --user U --role R")


async def current_user(
    request: Request,
    state: StateDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The caller, from `Authorization: Bearer TOKEN`; 401 when missing or unknown."""
    # One indexed read on the asyncio driver; GETs reuse the answer for a few seconds.
    if creds is None or creds.scheme.lower() != "bearer":
        raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    key = auth_repo.hash_token(creds.credentials)
    actor = state.actors.get(key) if request.method == "GET" else None
    if actor is None:
        token = creds.credentials
        actor = await state.read(lambda session: auth_repo.resolve_token(session, token=token))
        if actor is not None:
            state.actors.put(key, actor)
    if actor is None:
        raise HTTPException(401, "invalid or revoked token", headers={"WWW-Authenticate": "Bearer"})
    return actor


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
AnyRole = Annotated[Actor, Depends(require(Role.SALES_OPS, Role.COMPLIANCE, Role.VIEWER))]


async def reader(
    request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Actor:
    """Any role, for the hot status lookup: the same checks as AnyRole in one dependency."""
    user = await current_user(request, request.app.state.exportflow, creds)
    if not user.roles:
        raise HTTPException(403, f"this needs a role; {user.user} has none")
    return user


Reader = Annotated[Actor, Depends(reader)]
