"""Signing deliveries: new secrets, and the Standard Webhooks headers of one attempt."""

from __future__ import annotations

import base64
import secrets

from services.webhooks.verify import SECRET_PREFIX, signature

SECRET_BYTES = 32  # the spec asks for 24 to 64 random bytes


def new_secret() -> str:
    """A fresh signing secret: `whsec_` and base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signed_headers(msg_id: str, timestamp: int, body: bytes, secret: str) -> dict[str, str]:
    """The headers of one attempt; the timestamp is the attempt's, the id the delivery's."""
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(msg_id, timestamp, body, secret),
        "user-agent": "exportflow-webhooks/1",
    }
