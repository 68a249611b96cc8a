"""Standard Webhooks signatures: the spec's test vector, and what `verify` refuses."""

from __future__ import annotations

import base64

import pytest

from services.webhooks.signing import new_secret, signed_headers
from services.webhooks.verify import VerificationError, secret_key, signature, verify

# The test vector published with the Standard Webhooks specification.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'
EXPECTED = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def headers(sig: str = EXPECTED, ts: int = TIMESTAMP) -> dict[str, str]:
    """The three headers of a delivery."""
    return {"webhook-id": MSG_ID, "webhook-timestamp": str(ts), "webhook-signature": sig}


def test_the_specifications_test_vector_signs_and_verifies() -> None:
    assert signature(MSG_ID, TIMESTAMP, BODY, SECRET) == EXPECTED
    verify(BODY, headers(), SECRET, now=TIMESTAMP)
    verify(BODY.decode(), headers(), SECRET, now=TIMESTAMP + 299)


def test_headers_are_matched_whatever_their_case_and_any_listed_signature_may_match() -> None:
    upper = {k.title(): v for k, v in headers(f"v1a,AAAA v1,bm90IGl0 {EXPECTED}").items()}
    verify(BODY, upper, SECRET, now=TIMESTAMP)


@pytest.mark.parametrize(
    ("body", "hdrs", "secret", "now", "why"),
    [
        (b'{"test": 2432232315}', headers(), SECRET, TIMESTAMP, "no v1 signature matches"),
        (BODY, headers(), "whsec_" + base64.b64encode(b"x" * 24).decode(), TIMESTAMP, "matches"),
        (BODY, headers(), SECRET, TIMESTAMP + 301, "too far from now"),
        (BODY, headers(), SECRET, TIMESTAMP - 301, "too far from now"),
        (BODY, headers(ts=TIMESTAMP + 1), SECRET, TIMESTAMP, "no v1 signature matches"),
        (BODY, headers("v2," + EXPECTED[3:]), SECRET, TIMESTAMP, "no v1 signature matches"),
        (BODY, {"webhook-id": MSG_ID, "webhook-timestamp": "1"}, SECRET, 1, "signature header"),
        (BODY, headers() | {"webhook-timestamp": "soon"}, SECRET, TIMESTAMP, "whole seconds"),
        (BODY, headers(), "whsec_not base64!", TIMESTAMP, "not whsec_ followed by base64"),
    ],
    ids=[
        "body changed",
        "other secret",
        "stale",
        "from the future",
        "timestamp changed",
        "unknown version",
        "no signature",
        "bad timestamp",
        "bad secret",
    ],
)
def test_verify_refuses_what_was_not_signed_so_or_is_not_fresh(
    body: bytes, hdrs: dict[str, str], secret: str, now: int, why: str
) -> None:
    with pytest.raises(VerificationError, match=why):
        verify(body, hdrs, secret, now=now)


def test_new_secrets_are_32_random_bytes_and_headers_carry_id_time_and_signature() -> None:
    one, two = new_secret(), new_secret()
    assert one != two
    assert one.startswith("whsec_")
    assert len(secret_key(one)) == 32
    sent = signed_headers("msg_1", 1700000000, b"{}", one)
    assert sent["webhook-id"] == "msg_1"
    assert sent["webhook-timestamp"] == "1700000000"
    verify(b"{}", sent, one, now=1700000000)
