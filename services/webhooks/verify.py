"""Verify an exportflow webhook as a receiver: Standard Webhooks' HMAC-SHA256 scheme.

Standard library only, so a receiver can copy this file as it is. Call `verify` with the raw
request body (bytes as received: parsing and re-serialising the JSON changes it), the request
headers and the subscription's `whsec_…` secret; it returns nothing, or raises
`VerificationError` saying why. Then use the `webhook-id` header to drop repeats: a delivery
is retried with the same id until it is acknowledged with a 2xx.

The signed content is `{webhook-id}.{webhook-timestamp}.{body}`; the key is the base64 part of
the secret after `whsec_`; `webhook-signature` holds space-separated `v1,<base64 digest>`
entries (several while a secret is being rotated), and any one matching is enough.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping

SECRET_PREFIX = "whsec_"
TOLERANCE_SECONDS = 5 * 60


class VerificationError(Exception):
    """The request is not a genuine, fresh delivery signed with this secret."""


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_…` secret (the base64-decoded part after the prefix)."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise VerificationError("the secret is not whsec_ followed by base64") from exc


def signature(msg_id: str, timestamp: int, body: bytes, secret: str) -> str:
    """`v1,` and the base64 HMAC-SHA256 of `msg_id.timestamp.body` under the secret's key."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    raise VerificationError(f"the {name} header is missing")


def verify(
    payload: bytes | str,
    headers: Mapping[str, str],
    secret: str,
    *,
    tolerance: float = TOLERANCE_SECONDS,
    now: float | None = None,
) -> None:
    """Raise `VerificationError` unless the headers sign this payload with this secret.

    The timestamp must be within `tolerance` seconds of `now` (default: the clock), so a
    captured request cannot be replayed later.
    """
    body = payload.encode() if isinstance(payload, str) else payload
    msg_id = _header(headers, "webhook-id")
    stamp = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    try:
        timestamp = int(stamp)
    except ValueError as exc:
        raise VerificationError("webhook-timestamp is not whole seconds") from exc
    clock = time.time() if now is None else now
    if abs(clock - timestamp) > tolerance:
        raise VerificationError("webhook-timestamp is too far from now (a replay, or a clock off)")
    expected = signature(msg_id, timestamp, body, secret).encode()
    for candidate in signatures.split():
        version, _, _ = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(candidate.encode(), expected):
            return
    raise VerificationError("no v1 signature matches this payload and secret")
