"""The console in a real browser (Debian's Chromium via Playwright) on real processes.

Skipped locally when Chromium or Playwright is missing; a failure under CI=true.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from tests.web.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SHOTS,
    Person,
    Stack,
    book_in_form,
    missing,
    running_stack,
)
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(
    temporal_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """Worker and API as processes on the session's dev server."""
    address = temporal_env.client.service_client.config.target_host
    with running_stack(address, tmp_path_factory.mktemp("browser")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium for the module."""
    reason = missing()
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}; CI=true, so this is a failure, not a skip", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _sales_ops_books(alice: Person) -> str:
    alice.sign_in(shot="signin")
    alice.shot("order-book-empty")
    alice.go("/orders/new")
    alice.shot("new-order")
    oid = book_in_form(alice)
    alice.wait_state(f"/orders/{oid}", "COMPLIANCE_REVIEW")
    assert alice.page.locator("form[data-action='approve']").count() == 0
    assert alice.page.locator("form[data-action='cancel']").count() == 1
    alice.shot("order-waiting-for-compliance-as-sales-ops")
    return oid


def _compliance_approves_in_the_queue(bob: Person, oid: str) -> None:
    bob.sign_in()
    queue = bob.go("/queue")
    row = queue.locator(f"tr[data-order='{oid}']")
    assert row.count() == 1
    bob.shot("compliance-queue")
    row.locator("form[data-action='approve'] [name='note']").fill("end use statement on file")
    row.locator("form[data-action='approve'] button").click()
    queue.wait_for_url("**/queue?done=approve")
    assert "Done: Approve." in queue.locator(".flash").inner_text()


def _compliance_records_the_license(bob: Person, oid: str) -> str:
    bob.wait_state(f"/orders/{oid}", "AWAITING_LICENSE")
    number = f"D{uuid.uuid4().int % 10**6:06d}"
    expires = (date.today() + timedelta(days=400)).isoformat()
    terms = {"approved_quantity": "10", "approved_value": "120000.00", "expires_on": expires}
    bob.act("record-license", {"decision": "approved", "license_number": number, **terms})
    assert bob.state() == "READY_TO_SHIP"
    bob.go("/licenses")
    assert bob.page.locator(f"a:has-text('{number}')").count() == 1
    bob.shot("licenses")
    bob.go(f"/licenses/{number}")
    assert bob.page.locator(f"[data-testid='license-orders'] a[href='/orders/{oid}']").count() == 1
    bob.shot("license-reserved")
    return number


def _sales_ops_ships_and_delivers(alice: Person, oid: str) -> None:
    alice.go(f"/orders/{oid}")
    alice.act("ship", {"carrier": "DHL", "tracking_number": "JD0142", "itn": "12345"})
    assert "X" in alice.page.locator("[data-field='itn']").inner_text()  # the pattern, in words
    alice.shot("ship-refused-next-to-the-form")
    alice.act("ship", {"carrier": "DHL", "tracking_number": "JD0142", "itn": "X20261128123456"})
    assert alice.state() == "SHIPPED"
    alice.act("deliver")
    assert alice.state() == "DELIVERED"


def test_an_h20_order_from_the_booking_form_to_delivery(browser: Any, stack: Stack) -> None:
    alice, bob = Person(browser, stack, "alice"), Person(browser, stack, "bob")
    oid = _sales_ops_books(alice)
    _compliance_approves_in_the_queue(bob, oid)
    number = _compliance_records_the_license(bob, oid)
    _sales_ops_ships_and_delivers(alice, oid)
    steps = alice.page.locator("[data-testid='timeline'] li").evaluate_all(
        "items => items.map(i => i.dataset.action)"
    )
    for step in ("book", "approve", "record-license", "ship", "deliver"):
        assert step in steps, steps
    timeline = alice.page.locator("[data-testid='timeline']").inner_text()
    assert "bob" in timeline
    assert "end use statement on file" in timeline
    alice.shot("order-delivered-with-timeline")
    alice.go(f"/licenses/{number}")
    assert alice.page.locator("[data-testid='license-orders'] .badge").inner_text() == "Shipped"
    alice.shot("license-after-shipment")
    alice.go("/orders")
    alice.shot("order-book")
    alice.close()
    bob.close()


def test_sales_ops_cannot_approve_and_forged_posts_are_refused(browser: Any, stack: Stack) -> None:
    alice = Person(browser, stack, "alice")
    alice.sign_in()
    oid = book_in_form(alice)
    order = f"/orders/{oid}"
    alice.wait_state(order, "COMPLIANCE_REVIEW")
    csrf = alice.page.locator("input[name='csrf_token']").first.get_attribute("value")
    url = f"{stack.base}{order}/actions/approve"
    request = alice.context.request
    for form in ({"note": "x"}, {"note": "x", "csrf_token": "forged"}):
        r = request.post(url, form=form, max_redirects=0)
        assert r.status == 403, r.text()
        assert "CSRF check failed" in r.text()
    r = request.post(url, form={"note": "x", "csrf_token": str(csrf)}, max_redirects=0)
    assert r.status == 403
    assert "needs the compliance role" in r.text()

    # A page on another site posting to the console: the strict cookie stays home.
    attacker = alice.context.new_page()
    attacker.set_content(
        f'<form method="post" action="{url}"><input name="csrf_token" value="{csrf}">'
        '<input name="note" value="x"><button>go</button></form>'
    )
    attacker.click("button")
    attacker.wait_for_load_state()
    assert "Sign in again" in attacker.content()
    alice.go(order)
    assert alice.state() == "COMPLIANCE_REVIEW"
    alice.close()


def test_the_import_page_reports_every_row(browser: Any, stack: Stack, tmp_path: Path) -> None:
    alice = Person(browser, stack, "alice")
    alice.sign_in()
    page = alice.go("/import")
    alice.shot("import")
    ship = (date.today() + timedelta(days=50)).isoformat()
    ref = f"PO-{uuid.uuid4().hex[:6].upper()}"
    head = "external_ref,purchaser_name,purchaser_country,purchaser_address,end_user_name,"
    head += "end_user_country,end_user_address,end_use,requested_ship_date,sku,quantity,unit_price"
    party = "Example Cloud Co.,CN,Shenzhen,Example Inference Ltd.,CN,Beijing,AI inference"
    rows = [
        f"{ref}-1,{party},{ship},H20,8,12000.00",
        f"{ref}-1,{party},{ship},RTX-PRO-6000D,4,8500.00",
        f"{ref}-2,{party},{ship},A100,1,9000.00",
        f"{ref}-3,{party},{ship},H20,1,12000.00",
    ]
    file = tmp_path / "book.csv"
    file.write_text("\n".join([head, *rows]) + "\n")
    page.set_input_files("#file", str(file))
    page.click("button:has-text('Upload and book')")
    errors = page.locator("[data-testid='import-errors'] tbody tr")
    assert errors.count() == 1
    assert re.sub(r"\s+", " ", errors.first.inner_text()).startswith("4 sku unknown SKU")
    assert "nothing was booked" in page.locator("[data-testid='import-report']").inner_text()
    alice.shot("import-refused-atomic")
    page.set_input_files("#file", str(file))
    page.uncheck("[name='atomic']")
    page.click("button:has-text('Upload and book')")
    report = page.locator("[data-testid='import-report']").inner_text()
    assert "2 order(s) booked, 0 already booked, 1 with errors" in report
    assert page.locator("[data-testid='import-results'] a").count() == 2
    alice.shot("import-booked")
    alice.close()


def test_integrations_subscribe_a_receiver_and_show_its_deliveries(
    browser: Any, stack: Stack
) -> None:
    receiver = Receiver()
    receiver.start()
    bob = Person(browser, stack, "bob")
    try:
        bob.sign_in()
        page = bob.go("/integrations")
        # (This stack allows private targets, for the receiver on 127.0.0.1; never name a
        # private-network address here: the worker would send to it.)
        page.fill("#hook-url", "ftp://127.0.0.1/hooks")
        page.click("button:has-text('Subscribe')")
        assert "only http and https" in page.locator("[data-field='url']").inner_text()
        page.fill("#hook-url", receiver.url)
        page.fill("#hook-description", "ERP staging")
        page.click("button:has-text('Subscribe')")
        receiver.secret = page.locator("[data-testid='secret']").inner_text()
        assert receiver.secret.startswith("whsec_")
        bob.shot("integrations-new-secret")
        alice = {"Authorization": f"Bearer {stack.tokens['alice']}"}
        body = {
            "purchaser": {"name": "Example Cloud Co., Ltd.", "country": "CN"},
            "end_user": {"name": "Example Inference Ltd.", "country": "CN"},
            "end_use": "commercial AI inference",
            "lines": [{"sku": "RTX-PRO-6000D", "quantity": 4, "unit_price": "8500.00"}],
            "requested_ship_date": (date.today() + timedelta(days=30)).isoformat(),
        }
        r = httpx.post(f"{stack.base}/api/v1/orders", json=body, headers=alice, timeout=30)
        assert r.status_code == 201, r.text
        oid = r.json()["id"]
        for _ in range(120):
            page = bob.go("/integrations")
            if page.locator(f"tr[data-status='delivered']:has-text('{oid}')").count() >= 3:
                break
            page.wait_for_timeout(500)
        rows = page.locator(f"tr[data-status='delivered']:has-text('{oid}')")
        assert rows.count() == 3, page.locator("[data-testid='deliveries']").inner_text()
        assert page.locator("[data-health='healthy']").count() == 1
        assert {r.change for r in receiver.accepted()} == {(oid, 0), (oid, 1), (oid, 2)}
        assert all(r.valid for r in receiver.received)
        bob.shot("integrations")
        first = rows.last
        delivery_id = str(first.get_attribute("data-delivery"))
        first.locator("button:has-text('Redeliver')").click()
        page.wait_for_url("**/integrations?done=redeliver")
        assert "Delivery queued again." in page.locator(".flash").inner_text()
        for _ in range(120):
            if [r.msg_id for r in receiver.accepted()].count(delivery_id) == 2:
                break
            page.wait_for_timeout(250)
        assert [r.msg_id for r in receiver.accepted()].count(delivery_id) == 2
    finally:
        bob.close()
        receiver.stop()
