"""Users and API tokens. Tokens are stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from schemas.common import Actor, Role
from services.db.models import TokenRow, UserRow


def hash_token(token: str) -> str:
    """The stored form of a token; tokens are random, so a plain hash is enough."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, *, user: str, role: Role, now: datetime) -> str:
    """Issue a token for `user`, giving them `role` too if they did not have it yet."""
    row = session.get(UserRow, user)
    if row is None:
        row = UserRow(name=user, roles=role.value, created_at=now)
    else:
        roles = set(row.roles.split(",")) | {role.value}
        row.roles = ",".join(sorted(roles))
    session.add(row)
    session.flush()
    token = "ef_" + secrets.token_urlsafe(32)
    session.add(TokenRow(token_hash=hash_token(token), user_name=user, role=role, created_at=now))
    return token


# Built once: this runs on every request, and building the statement cost as much as running it.
_RESOLVE = (
    select(UserRow.name, UserRow.roles)
    .join(TokenRow, col(TokenRow.user_name) == col(UserRow.name))
    .where(TokenRow.token_hash == bindparam("token_hash"), col(TokenRow.revoked_at).is_(None))
)


def resolve_token(session: Session, *, token: str) -> Actor | None:
    """The user behind a token with all the roles they hold now; None if unknown or revoked."""
    # One query on the primary key, through Core (no ORM objects): 300 -> 110 us of CPU.
    found = session.connection().execute(_RESOLVE, {"token_hash": hash_token(token)}).first()
    if found is None:
        return None
    name, role_names = found
    return Actor(user=name, roles=frozenset(Role(r) for r in role_names.split(",") if r))
