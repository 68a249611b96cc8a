"""API tokens: compliance sees and revokes every token; anyone else, their own."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from sqlmodel import Session

from schemas.common import Actor, Role
from schemas.tokens import TokenInfo, TokenStatus
from services.api.deps import AnyRole, StateDep
from services.db import auth_repo

router = APIRouter(tags=["tokens"])


def _may_see_all(user: Actor) -> bool:
    return Role.COMPLIANCE in user.roles


@router.get("/tokens", response_model=list[TokenInfo])
async def list_tokens(
    user: AnyRole, state: StateDep, status: TokenStatus | None = None
) -> list[TokenInfo]:
    """Tokens with user, roles, created, last used and expiry (never the secret), newest first.

    Compliance sees every user's; anyone else only their own.
    """
    # No `?user=` filter: FastAPI takes the last of repeated values, which schemathesis rightly
    # calls accepting an invalid request; `exportflow token list --user` filters instead.
    now, who = auth_repo.utcnow(), None if _may_see_all(user) else user.user
    tokens = await state.read(lambda session: auth_repo.list_tokens(session, now=now, user=who))
    return [t for t in tokens if status is None or t.status == status]


@router.delete("/tokens/{token_id}", response_model=TokenInfo)
async def revoke_token(token_id: str, user: AnyRole, state: StateDep) -> TokenInfo:
    """Revoke one token (compliance: any; anyone else: their own). Every API process refuses
    it within a second; revoking it again changes nothing."""

    def write(session: Session) -> TokenInfo | None:
        owner = auth_repo.token_owner(session, token_id=token_id)
        # Someone else's token is as unknown as a token that does not exist.
        if owner is None or (owner != user.user and not _may_see_all(user)):
            return None
        now = auth_repo.utcnow()
        return auth_repo.revoke_token(session, token_id=token_id, by=user.user, now=now)

    info = await state.write(write)
    if info is None:
        raise HTTPException(404, f"no token {token_id}")
    return info
