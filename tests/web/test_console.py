"""The console in-process: sessions, CSRF, roles, forms and errors, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta

from schemas.common import Role
from services.config import Settings
from services.db import auth_repo
from services.db.engine import make_engine, session_factory
from services.db.models import UserRow
from tests.harness import ApiHarness, booking, license_body
from tests.web.console import Console, text_of


def new_order_form(**over: str) -> dict[str, str]:
    """A filled-in new-order form; override the fields a test is about."""
    form = {
        "purchaser.name": "Example Cloud Computing Co., Ltd.",
        "purchaser.country": "CN",
        "purchaser.address": "Shenzhen",
        "end_user.name": "Example Inference Services Ltd.",
        "end_user.country": "CN",
        "end_user.address": "Beijing",
        "end_use": "commercial AI inference",
        "requested_ship_date": (date.today() + timedelta(days=30)).isoformat(),
        "external_ref": "",
        "lines[0].sku": "H20",
        "lines[0].quantity": "10",
        "lines[0].unit_price": "12000.00",
        "idempotency_key": "",
    }
    return form | over


async def test_sign_in_keeps_the_token_in_strict_httponly_cookies_and_sign_out_clears_them(
    console: Console,
) -> None:
    async with console.browser() as b:
        page = await b.get("/orders")
        assert page.status_code == 303
        assert page.headers["location"] == "/signin?next=%2Forders"
        await b.get("/signin")
        bad = await b.post("/signin", {"token": "ef_nope"})
        assert bad.status_code == 401
        assert "unknown, has expired or has been revoked" in bad.text
        ok = await b.post("/signin", {"token": console.tokens["alice"], "next": "//evil.test"})
        assert ok.status_code == 303
        assert ok.headers["location"] == "/orders"
        cookies = ok.headers.get_list("set-cookie")
        assert len(cookies) == 2
        for cookie in cookies:
            assert "HttpOnly" in cookie
            assert "SameSite=strict" in cookie
        page = await b.get("/orders")
        assert page.status_code == 200
        assert "default-src 'self'" in page.headers["content-security-policy"]
        out = await b.post("/signout", {})
        assert out.status_code == 303
        assert all("Max-Age=0" in c for c in out.headers.get_list("set-cookie"))
        assert (await b.get("/orders")).status_code == 303


async def test_forms_without_this_sessions_csrf_token_are_refused(
    console: Console, api_of: ApiHarness
) -> None:
    oid = await api_of.book()
    await api_of.wait_state(oid, "COMPLIANCE_REVIEW")
    async with console.browser("bob") as bob:
        for token in ("", "forged-token"):
            r = await bob.post(f"/orders/{oid}/actions/approve", {"note": "x"}, csrf=token)
            assert r.status_code == 403
            assert "CSRF check failed" in r.text
    async with console.browser() as nobody:
        r = await nobody.post(f"/orders/{oid}/actions/approve", {}, csrf="x")
        assert r.status_code in (401, 403)
    assert (await api_of.get(oid))["state"] == "COMPLIANCE_REVIEW"


async def test_sales_ops_see_no_approve_button_and_a_forged_approve_is_refused_in_words(
    console: Console, api_of: ApiHarness
) -> None:
    oid = await api_of.book(booking(ref="PO-SOD"))
    await api_of.wait_state(oid, "COMPLIANCE_REVIEW")
    async with console.browser("alice") as alice:
        page = await alice.get(f"/orders/{oid}")
        assert page.status_code == 200
        assert 'data-action="approve"' not in page.text
        assert 'data-action="cancel"' in page.text
        r = await alice.post(f"/orders/{oid}/actions/approve", {"note": "self-approval"})
        assert r.status_code == 403
        assert "needs the compliance role" in text_of(r.text)
    async with console.browser("dave") as dave:  # holds both roles, and booked this one
        mine = await api_of.book(user="dave")
        await api_of.wait_state(mine, "COMPLIANCE_REVIEW")
        page = await dave.get(f"/orders/{mine}")
        assert 'data-action="approve"' not in page.text
        assert 'data-action="hold"' in page.text
    async with console.browser("bob") as bob:
        page = await bob.get(f"/orders/{oid}")
        assert 'data-action="approve"' in page.text
        assert 'data-action="cancel"' not in page.text
    assert (await api_of.get(oid))["state"] == "COMPLIANCE_REVIEW"


async def test_the_new_order_form_names_each_bad_field_and_books_once(
    console: Console, api_of: ApiHarness
) -> None:
    async with console.browser("alice") as alice:
        await alice.get("/orders/new")
        bad = new_order_form(**{"end_user.country": "XX", "lines[0].quantity": "0", "end_use": ""})
        r = await alice.post("/orders/new", bad)
        assert r.status_code == 422
        fields = set(re.findall(r'class="error" role="alert" data-field="([^"]+)"', r.text))
        assert fields == {"end_user.country", "lines[0].quantity", "end_use"}
        assert "is not an ISO 3166-1 alpha-2 country code" in text_of(r.text)
        r = await alice.post("/orders/new", new_order_form(**{"lines[0].sku": "A100"}))
        assert r.status_code == 422
        assert 'data-field="lines[0].sku"' in r.text
        assert "unknown SKU" in r.text
        good = new_order_form(external_ref="PO-FORM-1", idempotency_key="k-1")
        first = await alice.post("/orders/new", good)
        again = await alice.post("/orders/new", good)
        assert first.status_code == again.status_code == 303
        assert first.headers["location"] == again.headers["location"]
        oid = first.headers["location"].split("/")[2].split("?")[0]
        assert (await api_of.get(oid))["external_ref"] == "PO-FORM-1"
    async with console.browser("bob") as bob:
        assert (await bob.get("/orders/new")).status_code == 403


async def test_the_form_books_every_party_and_the_page_shows_each_lines_rule(
    console: Console, api_of: ApiHarness
) -> None:
    extra = {
        "purchaser.country": "SG",
        "purchaser.headquarters_country": "CN",
        "end_user.country": "SG",
        "ultimate_consignee.name": "Harbour Consignee Pte Ltd",
        "ultimate_consignee.country": "SG",
        "intermediate_consignees[0].name": "Forwarder HK Ltd",
        "intermediate_consignees[0].country": "HK",
        "lines[1].sku": "RTX-PRO-6000D",
        "lines[1].quantity": "2",
        "lines[1].unit_price": "8000.00",
        "idempotency_key": f"k-{uuid.uuid4().hex}",
    }
    async with console.browser("alice") as alice:
        await alice.get("/orders/new")
        r = await alice.post("/orders/new", new_order_form(**extra))
        assert r.status_code == 303, text_of(r.text)
        oid = r.headers["location"].split("/")[2].split("?")[0]
        order = await api_of.wait_state(oid, "COMPLIANCE_REVIEW")
        assert order["ultimate_consignee"]["name"] == "Harbour Consignee Pte Ltd"
        assert order["intermediate_consignees"][0]["country"] == "HK"
        assert order["purchaser"]["headquarters_country"] == "CN"
        page = text_of((await alice.get(f"/orders/{oid}")).text)
        assert "Harbour Consignee Pte Ltd" in page
        assert "IS-INFORMED-2025-04-H20" in page
        assert "RTX-PRO-6000D" in page
        assert "headquartered in CN" in page


async def test_a_refused_action_shows_the_apis_words_beside_its_form(
    console: Console, api_of: ApiHarness
) -> None:
    oid = await api_of.book()
    await api_of.wait_state(oid, "COMPLIANCE_REVIEW")
    async with console.browser("bob") as bob:
        await bob.get(f"/orders/{oid}")
        r = await bob.post(f"/orders/{oid}/actions/approve", {"note": "fine"})
        assert r.status_code == 303
        page = await bob.get(r.headers["location"])
        assert "Done: Approve." in page.text
        r = await bob.post(f"/orders/{oid}/actions/record-license", {"decision": "approved"})
        assert r.status_code == 422
        alerts = re.findall(r'role="alert"[^>]*>([^<]*)<', r.text)
        assert any("license_number" in a and "approved license" in a for a in alerts), alerts
    async with console.browser("alice") as alice:
        await alice.get(f"/orders/{oid}")
        r = await alice.post(f"/orders/{oid}/actions/cancel", {"reason": ""})
        assert r.status_code == 422
        assert 'data-field="reason"' in r.text


async def test_order_book_filters_sorts_pages_and_totals_by_state(
    console: Console, api_of: ApiHarness
) -> None:
    ids = [await api_of.book(booking(quantity=q, end_user=f"Book Test {q}")) for q in (1, 2, 3)]
    await api_of.book(booking(sku="RTX-PRO-6000D", end_user="Book Test RTX"))
    async with console.browser("vic") as vic:
        page = await vic.get("/orders", q="Book Test", sku="H20", sort="value", dir="asc")
        assert page.status_code == 200
        found = re.findall(r'href="/orders/(ORD-\w+)"', page.text)
        assert found == ids  # ascending value: quantities 1, 2, 3
        assert '<svg class="chart"' in page.text
        assert "state=" in page.text
        assert "New order" not in page.text  # viewers book nothing
        assert "/orders/new" not in page.text


async def test_the_queue_lists_what_waits_on_compliance_and_decides_from_there(
    console: Console, api_of: ApiHarness
) -> None:
    oid = await api_of.book()
    await api_of.wait_state(oid, "COMPLIANCE_REVIEW")
    async with console.browser("carol") as carol:
        page = await carol.get("/queue")
        assert page.status_code == 200
        row = page.text.split(f'data-order="{oid}"')[1].split("</tr>")[0]
        assert 'data-action="approve"' in row
        assert 'data-action="reject"' in row
        r = await carol.post(f"/orders/{oid}/actions/approve", {"note": "ok", "next": "/queue"})
        assert r.status_code == 303
        assert r.headers["location"] == "/queue?done=approve"
        page = await carol.get(r.headers["location"])
        assert "Done: Approve." in page.text
        # Approved, it still waits on compliance: for the license decision, on its own page.
        row = page.text.split(f'data-order="{oid}"')[1].split("</tr>")[0]
        assert 'data-state="AWAITING_LICENSE"' in row
        assert 'data-action="approve"' not in row
    assert (await api_of.get(oid))["state"] == "AWAITING_LICENSE"


async def test_the_import_page_shows_each_rows_result(console: Console) -> None:
    header = (
        "external_ref,purchaser_name,purchaser_country,purchaser_address,end_user_name,"
        "end_user_country,end_user_address,end_use,requested_ship_date,sku,quantity,unit_price\n"
    )
    ship = (date.today() + timedelta(days=30)).isoformat()
    row = f"P,Buyer Co,CN,,User Ltd,CN,,inference,{ship},H20,"
    csv_text = (
        header
        + f"{row}4,12000.00\n".replace("P,", "PO-IMP-1,")
        + f"{row}x,1\n".replace("P,", "PO-IMP-2,")
    )
    async with console.browser("alice") as alice:
        await alice.get("/import")
        r = await alice.http.post(
            "/import",
            data={"csrf_token": alice.csrf},
            files={"file": ("book.csv", csv_text.encode(), "text/csv")},
        )
        assert r.status_code == 200, r.text
        text = text_of(r.text)
        assert "1 order(s) booked, 0 already booked, 1 with errors" in text
        assert "3 quantity" in text
        assert "PO-IMP-1 2 Booked" in text


async def test_licenses_show_what_is_used_and_left_and_their_orders(
    console: Console, api_of: ApiHarness
) -> None:
    oid = await api_of.book(booking(quantity=10, price="12000.00"))
    await api_of.wait_state(oid, "COMPLIANCE_REVIEW")
    assert (await api_of.act(oid, "approve", "bob", {})).status_code == 200
    number = f"D{uuid.uuid4().int % 10**6:06d}"
    r = await api_of.act(oid, "record-license", "bob", license_body(number, 40, "480000.00"))
    assert r.status_code == 200, r.text
    async with console.browser("vic") as vic:
        page = await vic.get("/licenses")
        assert page.status_code == 200
        row = page.text.split(f">{number}</a>")[1].split("</tr>")[0]
        assert 'aria-label="25% used"' in row
        assert "30 left" in text_of(row)
        assert "USD 360,000.00 left" in text_of(row)
        detail = await vic.get(f"/licenses/{number}")
        assert detail.status_code == 200
        assert f'href="/orders/{oid}"' in detail.text
        title = detail.text.split("<title>")[1].split("</title>")[0]
        assert title.startswith(f"License {number}")
        assert "<section" not in title
        assert detail.text.count(">Ledger</h2>") == 1
        parties = text_of(
            detail.text.split('data-testid="license-parties"')[1].split("</section>")[0]
        )
        assert "Ultimate consignee Example Inference Services Ltd. CN" in parties
        lines = text_of(detail.text.split('data-testid="license-lines"')[1].split("</table>")[0])
        assert "1 H20 3A991 40 USD 480,000.00 10 USD 120,000.00 0 USD 0.00 30" in lines
        assert (await vic.get("/licenses/NOPE")).status_code == 404


async def test_the_license_form_asks_terms_per_licensed_line_and_the_order_shows_its_filing(
    console: Console, api_of: ApiHarness
) -> None:
    body = booking(sku="H20", quantity=2)
    body["lines"] += [
        {"sku": "H100-SXM", "quantity": 1, "unit_price": "25000.00"},
        {"sku": "RTX-PRO-6000D", "quantity": 3, "unit_price": "8000.00"},
    ]
    oid = await api_of.book(body)
    await api_of.wait_state(oid, "COMPLIANCE_REVIEW")
    assert (await api_of.act(oid, "approve", "bob", {})).status_code == 200
    number = f"D{uuid.uuid4().int % 10**6:06d}"
    async with console.browser("carol") as carol:
        page = await carol.get(f"/orders/{oid}")
        form = page.text.split('data-action="record-license"')[1].split("</form>")[0]
        assert 'name="lines[0].sku" value="H20"' in form
        assert 'name="lines[1].sku" value="H100-SXM"' in form
        assert "RTX-PRO-6000D" not in form  # NLR: it draws on no license
        assert 'name="approved_quantity"' not in form
        terms = {
            "decision": "approved",
            "license_number": number,
            "expires_on": (date.today() + timedelta(days=400)).isoformat(),
            "lines[0].sku": "H20",
            "lines[0].approved_quantity": "2",
            "lines[0].approved_value": "24000.00",
            "lines[1].sku": "H100-SXM",
        }
        r = await carol.post(f"/orders/{oid}/actions/record-license", terms)
        assert r.status_code == 422  # no terms for H100-SXM: refused beside the form
        assert "no terms for H100-SXM" in text_of(r.text)
        assert 'name="lines[0].approved_quantity" value="2"' in r.text
        terms |= {"lines[1].approved_quantity": "1", "lines[1].approved_value": "25000.00"}
        r = await carol.post(f"/orders/{oid}/actions/record-license", terms)
        assert r.status_code == 303, text_of(r.text)
        page = await carol.get(f"/orders/{oid}")
        filing = text_of(page.text.split('data-testid="export-filing"')[1].split("</table>")[0])
        assert f"1 H20 3A991 C30 {number} 2" in filing
        assert "2 H100-SXM 3A090.a C30" in filing
        assert "3 RTX-PRO-6000D 3A991 C33 NLR 3" in filing
    lic = (await api_of.http.get(f"/api/v1/licenses/{number}", headers=api_of.auth("vic"))).json()
    assert [(x["sku"], x["allocated_quantity"]) for x in lic["lines"]] == [
        ("H20", 2),
        ("H100-SXM", 1),
    ]


async def test_a_screening_hit_shows_the_matched_list_entry_and_compliance_can_clear_it(
    console: Console, api_of: ApiHarness, listed_name: str
) -> None:
    oid = await api_of.book(booking(end_user=listed_name))
    hit = (await api_of.wait_state(oid, "SCREENING_REVIEW"))["screening"]["hits"][0]
    async with console.browser("bob") as bob:
        page = await bob.get(f"/orders/{oid}")
        hits = text_of(page.text.split('data-testid="screening"')[1].split("</section>")[0])
        for shown in (listed_name, hit["entry_name"], hit["entry_id"], hit["source"]):
            assert shown in hits
        entry = re.search(r'<select[^>]*name="entry_id"[^>]*>(.*?)</select>', page.text, re.S)
        assert entry is not None  # the disposition form offers the matched entries
        assert f'value="{hit["entry_id"]}"' in entry.group(1)
        r = await bob.post(f"/orders/{oid}/actions/clear-screening", {"reason": "other entity"})
        assert r.status_code == 303
    order = await api_of.wait_state(oid, "COMPLIANCE_REVIEW")
    assert order["screening"]["cleared_by"] == "bob"


async def test_a_user_without_any_role_reads_nothing(console: Console, settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    user = f"nora-{uuid.uuid4().hex[:6]}"
    with session_factory(engine, write=True)() as session:
        token = auth_repo.create_token(session, user=user, role=Role.VIEWER, now=datetime.now(UTC))
        session.commit()
    async with console.browser() as b:
        await b.sign_in(token)
        assert (await b.get("/orders")).status_code == 200
        with session_factory(engine, write=True)() as session:
            row = session.get(UserRow, user)
            assert row is not None
            row.roles = ""
            session.add(row)
            session.commit()
        for path in ("/orders", "/queue", "/licenses"):
            page = await b.get(path)
            assert page.status_code == 403
            assert "holds no role" in page.text
    engine.dispose()
