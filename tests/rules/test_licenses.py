"""Licenses as BIS issues them: bodies, what an order draws, matching parties and lines, filing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from schemas.actions import LicenseBody
from schemas.licenses import LicenseCreate, LicenseParties
from schemas.orders import BookOrderRequest, Determination, Party
from schemas.workflow_io import DrawLine
from workflows.catalog import load_catalog
from workflows.rules.determination import determine, facts_of
from workflows.rules.export_filing import filing_lines, filing_parties
from workflows.rules.license_input import (
    check_line_terms,
    draw_lines,
    licensed_skus,
    order_parties,
)
from workflows.rules.license_match import LicenseLine, line_for, party_mismatches
from workflows.rules.transitions import Refusal, RefusalKind

TODAY = date(2026, 11, 30)
CLOUD = Party(name="Example Cloud Computing Co., Ltd.", country="CN")
USER = Party(name="Example Inference Services Ltd.", country="CN")


def _booking(*lines: tuple[str, int, str], **over: Any) -> BookOrderRequest:
    body: dict[str, Any] = {
        "purchaser": CLOUD.model_dump(),
        "end_user": USER.model_dump(),
        "end_use": "inference",
        "lines": [{"sku": s, "quantity": q, "unit_price": p} for s, q, p in lines],
        "requested_ship_date": "2027-01-15",
    }
    return BookOrderRequest.model_validate(body | over)


MIXED = _booking(("H20", 10, "12000.00"), ("RTX-PRO-6000D", 4, "8000.00"), ("H20", 2, "12000.00"))


def _det(booking: BookOrderRequest) -> Determination:
    return determine(facts_of(booking), load_catalog(), None, TODAY)


def _license(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "license_number": "D123456",
        "licensee": "Exporter Inc.",
        "destination": "CN",
        "expires_on": "2028-01-01",
    }
    return body | over


# --- POST /licenses bodies --------------------------------------------------------------


def test_the_older_single_sku_body_becomes_one_line_and_its_consignee_the_ultimate_one() -> None:
    body = LicenseCreate.model_validate(
        _license(
            skus=["H20"], approved_quantity=30, approved_value="360000.00", consignee=USER.name
        )
    )
    [line] = body.license_lines()
    assert (line.sku, line.approved_quantity, line.approved_value) == (
        "H20",
        30,
        Decimal("360000.00"),
    )
    parties = body.parties()
    assert parties.ultimate_consignee == Party(name=USER.name, country="CN")
    assert parties.named_end_user() == parties.ultimate_consignee


@pytest.mark.parametrize(
    ("over", "words"),
    [
        (
            {"skus": ["H20", "RTX-PRO-6000D"], "approved_quantity": 5, "approved_value": "1.00"},
            "lines: several SKUs (H20, RTX-PRO-6000D)",
        ),
        ({"skus": ["H20"]}, "lines: give the license's lines"),
        ({}, "lines: give the license's lines"),
        (
            {
                "lines": [{"sku": "H20", "approved_quantity": 1, "approved_value": "1.00"}],
                "skus": ["H20"],
            },
            "not both",
        ),
        (
            {
                "lines": [
                    {"sku": "H20", "approved_quantity": 1, "approved_value": "1.00"},
                    {"sku": "H20", "approved_quantity": 2, "approved_value": "2.00"},
                ]
            },
            "SKU H20 is on two lines",
        ),
        ({"lines": [{"approved_quantity": 1, "approved_value": "1.00"}]}, "give sku or eccn"),
    ],
)
def test_ambiguous_license_lines_are_refused_naming_lines(over: dict[str, Any], words: str) -> None:
    with pytest.raises(ValidationError, match=words.replace("(", r"\(").replace(")", r"\)")):
        LicenseCreate.model_validate(_license(consignee=USER.name) | over)


@pytest.mark.parametrize(
    ("over", "words"),
    [
        ({}, "ultimate_consignee: a license names its ultimate consignee"),
        (
            {"ultimate_consignee": {"name": "X", "country": "HK"}},
            "the ultimate consignee is in HK, the license's destination is CN",
        ),
        (
            {"consignee": "Y", "ultimate_consignee": {"name": "X", "country": "CN"}},
            "not both",
        ),
    ],
)
def test_a_license_names_one_ultimate_consignee_in_its_destination(
    over: dict[str, Any], words: str
) -> None:
    lines = [{"sku": "H20", "approved_quantity": 1, "approved_value": "1.00"}]
    with pytest.raises(ValidationError, match=words):
        LicenseCreate.model_validate(_license(lines=lines) | over)


# --- what an order draws ----------------------------------------------------------------


def test_a_mixed_order_draws_only_its_licensed_item_with_its_lines_of_one_sku_together() -> None:
    det = _det(MIXED)
    assert licensed_skus(MIXED, det) == ["H20"]
    body = LicenseBody(
        decision="approved",
        license_number="D1",
        approved_quantity=12,
        approved_value=Decimal("144000.00"),
    )
    [draw] = draw_lines(MIXED, det, body)
    assert (draw.sku, draw.eccn, draw.quantity, draw.value) == (
        "H20",
        "3A991",
        12,
        Decimal("144000.00"),
    )
    assert (draw.approved_quantity, draw.approved_value) == (12, Decimal("144000.00"))


def test_a_determination_from_before_lines_draws_every_item_as_it_did() -> None:
    old = _det(MIXED).model_copy(update={"lines": [], "license_required": True})
    assert licensed_skus(MIXED, old) == ["H20", "RTX-PRO-6000D"]
    assert licensed_skus(MIXED, None) == []


def test_one_pooled_quantity_for_several_licensed_lines_is_refused_naming_lines() -> None:
    h100 = _booking(("H20", 1, "1.00"), ("H100-SXM", 1, "1.00"))
    licensed = licensed_skus(h100, _det(h100))
    assert licensed == ["H20", "H100-SXM"]
    pooled = LicenseBody(
        decision="approved",
        license_number="D1",
        approved_quantity=2,
        approved_value=Decimal("2.00"),
    )
    with pytest.raises(Refusal, match="lines: the order has 2 licensed lines"):
        check_line_terms(pooled, licensed)
    per_line = LicenseBody.model_validate(
        {
            "decision": "approved",
            "license_number": "D1",
            "lines": [
                {"sku": "H100-SXM", "approved_quantity": 1, "approved_value": "1.00"},
                {"sku": "H20", "approved_quantity": 1, "approved_value": "1.00"},
            ],
        }
    )
    check_line_terms(per_line, licensed)
    assert [(d.sku, d.approved_quantity) for d in draw_lines(h100, _det(h100), per_line)] == [
        ("H20", 1),
        ("H100-SXM", 1),
    ]


@pytest.mark.parametrize(
    ("lines", "words"),
    [
        ([("RTX-PRO-6000D", 1)], "lines[0].sku: RTX-PRO-6000D is not a licensed line"),
        ([("H20", 1), ("H20", 2)], "lines[1].sku: H20 is given twice"),
        ([], "lines: no terms for H20"),
    ],
)
def test_line_terms_name_exactly_the_licensed_lines(
    lines: list[tuple[str, int]], words: str
) -> None:
    body = LicenseBody.model_validate(
        {
            "decision": "approved",
            "license_number": "D1",
            "lines": [
                {"sku": s, "approved_quantity": q, "approved_value": "1.00"} for s, q in lines
            ],
        }
    )
    with pytest.raises(Refusal) as refused:
        check_line_terms(body, licensed_skus(MIXED, _det(MIXED)))
    assert refused.value.kind is RefusalKind.INVALID
    assert words in refused.value.message


# --- parties and destination ------------------------------------------------------------

LICENSED = LicenseParties(
    ultimate_consignee=Party(name="EXAMPLE INFERENCE SERVICES LIMITED", country="CN"),
    intermediate_consignees=[Party(name="Forwarder HK Ltd", country="HK")],
)


@pytest.mark.parametrize(
    ("order", "destination", "expected"),
    [
        (order_parties(MIXED), "CN", []),  # suffix and case do not count
        (
            order_parties(
                _booking(
                    ("H20", 1, "1.00"), end_user={"name": "Other AI Co., Ltd.", "country": "CN"}
                )
            ),
            "CN",
            [
                "license D1 names ultimate consignee 'EXAMPLE INFERENCE SERVICES LIMITED' (CN), "
                "the order 'Other AI Co., Ltd.' (CN)",
                "license D1 names end user 'EXAMPLE INFERENCE SERVICES LIMITED' (CN), the order "
                "'Other AI Co., Ltd.' (CN)",
            ],
        ),
        (
            order_parties(
                _booking(
                    ("H20", 1, "1.00"),
                    ultimate_consignee=USER.model_dump(),
                    end_user={"name": "Other AI Co., Ltd.", "country": "CN"},
                )
            ),
            "CN",
            [
                "license D1 names end user 'EXAMPLE INFERENCE SERVICES LIMITED' (CN), the order "
                "'Other AI Co., Ltd.' (CN)"
            ],
        ),
        (
            order_parties(
                _booking(
                    ("H20", 1, "1.00"),
                    intermediate_consignees=[{"name": "Forwarder SG Pte Ltd", "country": "SG"}],
                )
            ),
            "CN",
            ["license D1 does not name intermediate consignee 'Forwarder SG Pte Ltd' (SG)"],
        ),
        (
            order_parties(
                _booking(("H20", 1, "1.00"), end_user=USER.model_dump() | {"country": "HK"})
            ),
            "HK",
            [
                "license D1 is for CN, not HK",
                "license D1 names ultimate consignee 'EXAMPLE INFERENCE SERVICES LIMITED' (CN), "
                "the order 'Example Inference Services Ltd.' (HK)",
                "license D1 names end user 'EXAMPLE INFERENCE SERVICES LIMITED' (CN), the order "
                "'Example Inference Services Ltd.' (HK)",
            ],
        ),
    ],
)
def test_the_order_must_name_the_licensed_parties_and_destination(
    order: LicenseParties, destination: str, expected: list[str]
) -> None:
    assert party_mismatches("D1", LICENSED, "CN", order, destination) == expected


def test_a_license_naming_no_ultimate_consignee_takes_no_draw() -> None:
    found = party_mismatches("D1", LicenseParties(), "CN", order_parties(MIXED), "CN")
    assert found[0] == (
        "license D1 names no ultimate consignee; the order's is "
        "'Example Inference Services Ltd.' (CN)"
    )


# --- lines ------------------------------------------------------------------------------

LINES = [
    LicenseLine(line=1, sku="H20", eccn=None),
    LicenseLine(line=2, sku=None, eccn="3A090.a"),
    LicenseLine(line=3, sku=None, eccn=None, pooled_skus=("H200", "RTX-PRO-6000D")),
]


def _draw(sku: str, eccn: str | None) -> DrawLine:
    return DrawLine(sku=sku, eccn=eccn, quantity=1, value=Decimal(1))


@pytest.mark.parametrize(
    ("sku", "eccn", "expected"),
    [
        ("H20", "3A991", 1),  # by SKU
        ("H100-SXM", "3A090.a", 2),  # by ECCN
        ("H200", "3A090.A", 2),  # ECCN, case aside; the pooled line takes no new draws
        ("RTX-PRO-6000D", "3A991", "license D1 line 3 pools H200, RTX-PRO-6000D under one"),
        ("B200", "3A090.b", "license D1 has no line for B200 (ECCN 3A090.b)"),
        ("B200", None, "license D1 has no line for B200"),
    ],
)
def test_each_item_draws_on_its_own_line(sku: str, eccn: str | None, expected: int | str) -> None:
    found = line_for("D1", LINES, _draw(sku, eccn))
    if isinstance(expected, int):
        assert isinstance(found, LicenseLine)
        assert found.line == expected
    else:
        assert isinstance(found, str)
        assert found.startswith(expected)


# --- export filing ----------------------------------------------------------------------


def test_filing_lines_carry_c30_with_the_license_for_h20_and_c33_nlr_for_rtx_pro() -> None:
    lines, missing = filing_lines(MIXED, _det(MIXED), {"H20": ("D1", 1)}, {})
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
    lines, missing = filing_lines(MIXED, _det(MIXED), {}, {})
    assert missing == [
        "line 1 (H20): needs a license and has no license draw",
        "line 3 (H20): needs a license and has no license draw",
    ]
    assert lines[0].license is None
    _, undecided = filing_lines(MIXED, None, {}, {"H20": "3A991"})
    assert undecided[0] == "line 1 (H20): not determined yet; compliance decides"


def test_filing_lists_every_party_with_its_country() -> None:
    booking = _booking(
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
