"""Fulfilling a license obligation: who may, what is refused, and that it happens once."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from tests.harness import ApiHarness


def _license(number: str) -> dict[str, Any]:
    return {
        "license_number": number,
        "application_control_number": "Z654321",
        "licensee": "Example Corp",
        "consignee": "Example Cloud Computing Co., Ltd.",
        "destination": "CN",
        "skus": ["H20"],
        "approved_quantity": 10,
        "approved_value": "120000.00",
        "expires_on": (date.today() + timedelta(days=365)).isoformat(),
        "conditions": [
            {"code": "EUS", "text": "End-use statement filed", "owner": "bob", "blocking": True}
        ],
    }


async def _obligation(api: ApiHarness) -> tuple[str, int]:
    number = f"DO{uuid.uuid4().hex[:8].upper()}"
    r = await api.http.post("/api/v1/licenses", json=_license(number), headers=api.auth("bob"))
    assert r.status_code == 201, r.text
    lic = (await api.http.get(f"/api/v1/licenses/{number}", headers=api.auth("vic"))).json()
    return number, int(lic["obligations"][0]["id"])


def _url(number: str, obligation: object) -> str:
    return f"/api/v1/licenses/{number}/obligations/{obligation}/fulfil"


async def test_only_compliance_fulfils_an_obligation(api: ApiHarness) -> None:
    number, oid = await _obligation(api)
    r = await api.http.post(_url(number, oid))
    assert r.status_code == 401
    for user in ("alice", "vic"):
        r = await api.http.post(_url(number, oid), headers=api.auth(user))
        assert r.status_code == 403, (user, r.text)
    lic = (await api.http.get(f"/api/v1/licenses/{number}", headers=api.auth("vic"))).json()
    assert lic["obligations"][0]["fulfilled_by"] is None


async def test_an_obligation_of_another_license_or_none_at_all_is_404(api: ApiHarness) -> None:
    number, oid = await _obligation(api)
    other, _ = await _obligation(api)
    for url, named in (
        (_url(other, oid), f"license {other} has no obligation {oid}"),
        (_url("D-NOSUCH", oid), f"license D-NOSUCH has no obligation {oid}"),
        (_url(number, oid + 10_000), f"license {number} has no obligation {oid + 10_000}"),
    ):
        r = await api.http.post(url, headers=api.auth("bob"))
        assert r.status_code == 404, r.text
        assert r.json()["detail"] == named


async def test_a_bad_obligation_id_is_422_naming_it(api: ApiHarness) -> None:
    number, _ = await _obligation(api)
    for bad in ("abc", "0", "-1", str(2**63)):
        r = await api.http.post(_url(number, bad), headers=api.auth("bob"))
        assert r.status_code == 422, (bad, r.text)
        assert "obligation_id" in r.text


async def test_fulfilling_twice_keeps_who_fulfilled_it_first(api: ApiHarness) -> None:
    number, oid = await _obligation(api)
    first = await api.http.post(_url(number, oid), headers=api.auth("bob"))
    assert first.status_code == 200, first.text
    again = await api.http.post(_url(number, oid), headers=api.auth("carol"))
    assert again.status_code == 200, again.text
    assert again.json()["fulfilled_by"] == "bob"
    assert again.json()["fulfilled_at"] == first.json()["fulfilled_at"]
