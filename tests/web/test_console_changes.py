"""The console's pages for orders that change: amend with its diff, partial shipments,
documents, and license suspension; in-process, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
from html import unescape
from typing import Any

from tests.harness import ApiHarness, booking, license_body
from tests.web.console import Console, text_of


async def licensed(api: ApiHarness, number: str, sku: str = "H20") -> str:
    oid = await api.book(booking(sku=sku, quantity=10))
    await api.wait_state(oid, "COMPLIANCE_REVIEW")
    assert (await api.act(oid, "approve", "bob", {})).status_code == 200
    r = await api.act(oid, "record-license", "carol", license_body(number))
    assert r.status_code == 200, r.text
    return oid


def amend_form(page: str) -> dict[str, str]:
    """The amend form's fields as the page fills them in."""
    fields = dict(re.findall(r'<input id="([^"]+)" name="[^"]+" type="\w+" value="([^"]*)"', page))
    fields |= {
        m[0]: m[1]
        for m in re.findall(r'name="(lines\[\d+\]\.(?:quantity|unit_price))" value="([^"]*)"', page)
    }
    for name, sku in re.findall(
        r'name="(lines\[\d+\]\.sku)".*?<option value="([^"]+)" selected', page, re.S
    ):
        fields[name] = sku
    return fields


async def test_amend_shows_the_diff_and_only_the_confirmation_changes_the_order(
    console: Console, api_of: ApiHarness
) -> None:
    oid = await licensed(api_of, "DW100001")
    async with console.browser("alice") as alice:
        order = await alice.get(f"/orders/{oid}")
        assert f'href="/orders/{oid}/amend"' in order.text
        form = await alice.get(f"/orders/{oid}/amend")
        assert form.status_code == 200
        fields = amend_form(form.text)
        assert fields["lines[0].quantity"] == "10"
        fields |= {"lines[0].quantity": "6", "reason": "customer cut the order"}
        preview = await alice.post(f"/orders/{oid}/amend", fields)
        assert preview.status_code == 200, text_of(preview.text)
        words = text_of(preview.text)
        assert "Confirm the amendment" in words
        assert "H20 10 × USD 12,000.00" in words
        assert "H20 6 × USD 12,000.00" in words
        assert "Not material" in words
        assert (await api_of.get(oid))["total_quantity"] == 10  # nothing sent yet
        payload = re.search(r'name="payload" value="([^"]+)"', preview.text)
        assert payload is not None
        done = await alice.post(f"/orders/{oid}/amend/confirm", {"payload": unescape(payload[1])})
        assert done.status_code == 303, done.text
    order = await api_of.get(oid)
    assert (order["total_quantity"], order["state"]) == (6, "READY_TO_SHIP")


async def test_amend_form_errors_and_a_material_change(
    console: Console, api_of: ApiHarness
) -> None:
    oid = await licensed(api_of, "DW100002")
    async with console.browser("alice") as alice:
        fields = amend_form((await alice.get(f"/orders/{oid}/amend")).text)
        r = await alice.post(f"/orders/{oid}/amend", fields | {"reason": ""})
        assert r.status_code == 422
        assert "say why" in text_of(r.text)
        r = await alice.post(f"/orders/{oid}/amend", fields | {"reason": "same"})
        assert r.status_code == 422
        assert "Nothing changed" in text_of(r.text)
        new_user = fields | {"end_user.name": "Another Inference Co.", "reason": "new end user"}
        r = await alice.post(f"/orders/{oid}/amend", new_user)
        words = text_of(r.text)
        assert "Material change (end user changed)" in words
        assert "Another Inference Co." in words


async def test_partial_shipment_from_the_order_page_and_delivery_of_one(
    console: Console, api_of: ApiHarness
) -> None:
    oid = await licensed(api_of, "DW100003")
    async with console.browser("alice") as alice:
        page = await alice.get(f"/orders/{oid}")
        assert 'name="lines[0].quantity" value="10"' in page.text  # all that is left
        ship = {
            "carrier": "DHL",
            "tracking_number": "JD1",
            "itn": "X20261201770001",
            "lines[0].sku": "H20",
            "lines[0].quantity": "4",
        }
        r = await alice.post(f"/orders/{oid}/actions/ship", ship)
        assert r.status_code == 303, text_of(r.text)
        page = await alice.get(f"/orders/{oid}")
        assert 'data-shipped="4"' in page.text
        assert 'name="lines[0].quantity" value="6"' in page.text
        assert 'data-shipment="0"' in page.text
        r = await alice.post(f"/orders/{oid}/actions/deliver", {"shipment": "0"})
        assert r.status_code == 303
    order = await api_of.get(oid)
    assert (order["state"], order["shipments"][0]["delivered_at"] is not None) == (
        "READY_TO_SHIP",
        True,
    )


async def test_documents_upload_list_download_and_evidence(
    console: Console, api_of: ApiHarness
) -> None:
    oid = await licensed(api_of, "DW100004", sku="H100-SXM")
    async with console.browser("alice") as alice:
        page = await alice.get(f"/orders/{oid}")
        assert 'data-kind="lab_test_report"' in page.text
        assert "Missing" in text_of(page.text)
        files = {"file": ("lab.pdf", b"%PDF lab", "application/pdf")}
        r = await alice.http.post(
            f"/orders/{oid}/documents",
            data={"csrf_token": alice.csrf, "kind": "lab_test_report"},
            files=files,
        )
        assert r.status_code == 303, r.text
        page = await alice.get(f"/orders/{oid}")
        doc = re.search(rf'href="(/orders/{oid}/documents/\w+)">lab.pdf', page.text)
        assert doc is not None
        got = await alice.get(doc[1])
        assert got.content == b"%PDF lab"
        assert "attachment" in got.headers["content-disposition"]
        r = await alice.http.post(
            f"/orders/{oid}/documents",
            data={"csrf_token": alice.csrf, "kind": "Bad Kind!"},
            files=files,
        )
        assert r.status_code == 422
        assert "kind" in text_of(r.text)


async def finished(api: ApiHarness, number: str) -> dict[str, Any]:
    for _ in range(600):
        lic = (await api.http.get(f"/api/v1/licenses/{number}", headers=api.auth("vic"))).json()
        if lic["actions"] and lic["actions"][0]["finished_at"]:
            return dict(lic)
        await asyncio.sleep(0.1)
    raise AssertionError(lic["actions"])


async def test_the_license_page_suspends_and_shows_the_orders_it_held(
    console: Console, api_of: ApiHarness
) -> None:
    oid = await licensed(api_of, "DW100005")
    async with console.browser("alice") as alice:
        page = await alice.get("/licenses/DW100005")
        assert 'data-action="suspend"' not in page.text  # sales ops: no buttons
    async with console.browser("bob") as bob:
        page = await bob.get("/licenses/DW100005")
        assert 'data-status="active"' in page.text
        r = await bob.post("/licenses/DW100005/suspend", {"reason": ""})
        assert r.status_code == 422
        assert "reason" in text_of(r.text)
        r = await bob.post("/licenses/DW100005/suspend", {"reason": "BIS letter of 1 Dec"})
        assert r.status_code == 303
        await finished(api_of, "DW100005")
        page = await bob.get("/licenses/DW100005")
        words = text_of(page.text)
        assert 'data-status="suspended"' in page.text
        assert "1 of 1 orders reached" in words
        assert oid in words
        assert "Held" in words
        assert 'data-action="reinstate"' in page.text
        order = await bob.get(f"/orders/{oid}")
        assert 'data-testid="license-hold"' in order.text
