"""API tokens as people see them: who, roles, made, last used, expiry; never the secret."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from schemas.common import Role

TokenStatus = Literal["active", "expired", "revoked"]


class TokenInfo(BaseModel):
    """One token. `roles` is what it grants now: every role its user holds."""

    id: str
    user: str
    role: Role
    roles: list[Role]
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None
    status: TokenStatus
