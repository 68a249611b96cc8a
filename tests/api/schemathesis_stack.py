"""What the schemathesis test runs against: real orders in every waiting state, and the few
documented rules by which schema-valid input is still refused as 422."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx

from services.demo import LISTED_END_USER
from tests.harness import booking, license_body

# Schema-valid input that a documented rule refuses (422), by the phrase the answer gives for
# each field: rules the JSON schema of the body does not express. A 422 for a valid request
# passes only when every error it lists is one of these; anything else fails the test.
SEMANTIC_422: dict[str, str] = {
    "cursor is not one this API returned": "a cursor is opaque: only one the API issued",
    "is not an ISO 3166-1 alpha-2 country code": "countries are ISO codes (schema: a string)",
    "String should have at least 1 character": "surrounding whitespace is stripped first",
    # An amount may be sent as a number or a string; the schema's string branch is any
    # string, so these checks of a string amount are not in it.
    "Input should be a valid decimal": "amounts are decimal strings (schema: any string)",
    "Input should be greater than 0": "a string amount is positive, as a number must be",
    "must have at most two decimal places": "amounts are USD cents",
    "Decimal input should have no more than": "amounts are USD cents, at most 16 digits",
    "must be a finite amount": "amounts are finite",
    "an approved license needs its number": "record-license: `approved` names its license",
    "shipment(s), numbered from 0": "deliver: a shipment index the order has",
    "is in the future": "BIS application dates are not ahead of today",
    "is before the last step": "BIS application dates follow each other",
    "was already used": "a successor application needs a new control number",
    "is set by submit-application": "application-status answers; `submitted` is filing",
    "the upload is empty": "a document has content",
    "has no file name": "a document has a name",
    "only with returned_without_action": "a successor comes only with a return",
    "must match ^[a-z0-9]": "a document kind is a lowercase word",
    "ruleset.version: 1-40 letters": "a rule-set version names a workflow and sits in URLs",
    "only http and https URLs can receive webhooks": "webhook targets are http(s)",
    "addresses cannot receive webhooks": "webhook targets are public hosts",
}
# Whole answers of an operation refused for what is inside a part the schema calls binary.
SEMANTIC_422_BY_OPERATION = {
    "POST /api/v1/orders/import": "error(s) in the file",  # a CSV with the documented header
    # A rule set is checked as a whole (policies against license_required, referenced groups
    # and rules, dates in order): rules the schema of its parts cannot state.
    "POST /api/v1/rulesets": "ruleset",
}


def semantic_422(label: str, response: Any) -> bool:
    """True when a 422 for a valid request gives only refusals listed in SEMANTIC_422."""
    if response.status_code != 422:
        return False
    try:
        body = response.json()
    except ValueError:  # `?report=csv`: the import's report of the file's errors, row by row
        return label in SEMANTIC_422_BY_OPERATION and "error" in response.text
    if label in SEMANTIC_422_BY_OPERATION:
        return SEMANTIC_422_BY_OPERATION[label] in str(body.get("detail"))
    messages = [str(e.get("message", "")) for e in body.get("errors", [])] or [body["detail"]]
    return all(any(phrase in m for phrase in SEMANTIC_422) for m in messages)


@dataclass
class Seeded:
    """Ids of what exists, for valid requests to name."""

    orders: list[str]
    licenses: list[str]
    obligations: list[int]


class _Seeder:
    def __init__(self, base: str, tokens: dict[str, str]) -> None:
        self.http = httpx.Client(base_url=base + "/api/v1", timeout=120)
        self.tokens = tokens

    def auth(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def book(self, body: dict[str, Any]) -> str:
        r = self.http.post("/orders", json=body, headers=self.auth("alice"))
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    def wait(self, oid: str, state: str, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while (seen := self.http.get(f"/orders/{oid}", headers=self.auth("bob")).json())[
            "state"
        ] != state:
            assert time.monotonic() < deadline, f"{oid} stuck in {seen['state']}, not {state}"
            time.sleep(0.2)

    def act(self, oid: str, action: str, user: str, body: Any) -> None:
        r = self.http.post(f"/orders/{oid}/actions/{action}", json=body, headers=self.auth(user))
        assert r.status_code == 200, r.text

    def license(self, number: str) -> int:
        body = {
            "license_number": number,
            "application_control_number": "Z100200",
            "licensee": "Example Corp",
            "consignee": "Example Inference Services Ltd.",  # the orders' end user
            "destination": "CN",
            "skus": ["H20"],
            "approved_quantity": 500,
            "approved_value": "9000000.00",
            "expires_on": (date.today() + timedelta(days=365)).isoformat(),
            "conditions": [{"code": "EUS", "text": "End-use statement", "blocking": True}],
        }
        r = self.http.post("/licenses", json=body, headers=self.auth("bob"))
        assert r.status_code == 201, r.text
        lic = self.http.get(f"/licenses/{number}", headers=self.auth("bob")).json()
        return int(lic["obligations"][0]["id"])


def seed_orders(base: str, tokens: dict[str, str]) -> Seeded:
    """Orders booked by alice in review, awaiting a license, ready to ship, shipped and under
    screening review; a license recorded up front with a blocking obligation."""
    s = _Seeder(base, tokens)
    tag = uuid.uuid4().hex[:6].upper()
    number = f"DST{tag}"
    obligation = s.license(number)
    review = [s.book(booking(ref=f"ST-{tag}-{i}")) for i in range(6)]
    nlr = [s.book(booking(sku="RTX-PRO-6000D", ref=f"ST-{tag}-N{i}")) for i in range(2)]
    listed = [s.book(booking(end_user=LISTED_END_USER, ref=f"ST-{tag}-L{i}")) for i in range(2)]
    for oid in review:
        s.wait(oid, "COMPLIANCE_REVIEW")
    for oid in review[:4]:
        s.act(oid, "approve", "bob", {"note": "seed"})
    s.act(review[0], "record-license", "carol", {"decision": "approved", "license_number": number})
    s.act(review[1], "record-license", "carol", license_body(f"DSR{tag}"))
    for oid in nlr:
        s.wait(oid, "READY_TO_SHIP")
    ship = {"carrier": "DHL", "tracking_number": "ST1", "itn": "X20261201000001"}
    s.act(nlr[0], "ship", "alice", ship)
    for oid in listed:
        s.wait(oid, "SCREENING_REVIEW")
    s.http.close()
    return Seeded(review + nlr + listed, [number, f"DSR{tag}"], [obligation])
