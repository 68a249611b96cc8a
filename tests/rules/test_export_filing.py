"""Export filing lines: per shipment line its ECCN, AES code and license, and every party."""

from __future__ import annotations

from decimal import Decimal

from tests.rules.license_cases import CLOUD, MIXED, USER, booking_of, determined
from workflows.rules.export_filing import filing_lines, filing_parties


def test_filing_lines_carry_c30_with_the_license_for_h20_and_c33_nlr_for_rtx_pro() -> None:
    lines, missing = filing_lines(MIXED, determined(MIXED), {"H20": ("D1", 1)}, {})
    assert missing == []
    assert [(x.line, x.sku, x.eccn, x.license_code, x.license, x.license_line) for x in lines] == [
        (1, "H20", "3A991", "C30", "D1", 1),
        (2, "RTX-PRO-6000D", "3A991", "C33", "NLR", None),
        (3, "H20", "3A991", "C30", "D1", 1),
    ]
    assert [(x.quantity, x.value) for x in lines] == [
        (10, Decimal("120000.00")),
        (4, Decimal("32000.00")),
        (2, Decimal("24000.00")),
    ]


def test_filing_names_licensed_lines_without_a_draw_and_undecided_lines() -> None:
    lines, missing = filing_lines(MIXED, determined(MIXED), {}, {})
    assert missing == [
        "line 1 (H20): needs a license and has no license draw",
        "line 3 (H20): needs a license and has no license draw",
    ]
    assert lines[0].license is None
    _, undecided = filing_lines(MIXED, None, {}, {"H20": "3A991"})
    assert undecided[0] == "line 1 (H20): not determined yet; compliance decides"


def test_filing_lists_every_party_with_its_country() -> None:
    booking = booking_of(
        ("H20", 1, "1.00"),
        ultimate_consignee={"name": "Harbour Pte Ltd", "country": "SG"},
        intermediate_consignees=[{"name": "Forwarder HK Ltd", "country": "HK"}],
    )
    assert [(p.role, p.name, p.country) for p in filing_parties(booking)] == [
        ("purchaser", CLOUD.name, "CN"),
        ("ultimate_consignee", "Harbour Pte Ltd", "SG"),
        ("end_user", USER.name, "CN"),
        ("intermediate_consignee", "Forwarder HK Ltd", "HK"),
    ]
