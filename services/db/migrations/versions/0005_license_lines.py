"""Licenses as BIS issues them: item lines, named parties, ledger entries per line.

Revision ID: 0005
Revises: 0008 (documents; the branch began on 0003)
Create Date: 2026-12-01

Existing licenses are migrated so that nothing is authorised beyond what was approved:

* A license for one SKU becomes exactly one line: that SKU, its approved quantity and value.
  Its ledger entries move to that line, with that SKU (a draw was refused unless every item of
  the order was the license's SKU, so each entry was of that SKU).
* A license for several SKUs (or none) pooled them under one quantity and value; how BIS split
  them per item was never recorded, and any split we chose could authorise more of one item
  than BIS did. It fails closed: it becomes a single *pooled* line (`pooled`, with the SKUs in
  `pooled_skus`) holding the whole approved quantity and value and all of its ledger entries
  (item unknown: `sku` NULL). The orders already drawn on it ship, release and commit as
  before, and the ledger sums stay exactly what they were; **no new draw is taken on it** (the
  409 says so and names the line). There is no way yet to give such a license its real lines
  in place; until there is, its remaining capacity is unusable, never over-used.
* Parties: a license recorded with `POST /licenses` names its `consignee`, which becomes the
  ultimate consignee, in the license's destination country, and no other end user; with no
  consignee (or no destination) it names none and takes no new draws (fail closed). A license created
  by `record-license` from a decision's own terms (no licensee) takes the parties of the order
  whose decision created it (its first reservation): ultimate consignee (or end user), end
  user and intermediate consignees, as `record-license` now does.

The downgrade folds lines back into one pool per license (their sums, their SKUs) and keeps
the ultimate consignee's name; parties beyond it are lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LICENSES = sa.table(
    "licenses",
    sa.column("number", sa.String),
    sa.column("licensee", sa.String),
    sa.column("consignee", sa.String),
    sa.column("destination", sa.String),
    sa.column("skus", sa.JSON),
    sa.column("approved_quantity", sa.Integer),
    sa.column("approved_value_cents", sa.BigInteger),
    sa.column("parties", sa.JSON),
)
_LINES = sa.table(
    "license_lines",
    sa.column("id", sa.Integer),
    sa.column("license_number", sa.String),
    sa.column("line_no", sa.Integer),
    sa.column("sku", sa.String),
    sa.column("eccn", sa.String),
    sa.column("approved_quantity", sa.Integer),
    sa.column("approved_value_cents", sa.BigInteger),
    sa.column("pooled", sa.Boolean),
    sa.column("pooled_skus", sa.JSON),
)
_LEDGER = sa.table(
    "license_ledger",
    sa.column("id", sa.Integer),
    sa.column("license_number", sa.String),
    sa.column("order_id", sa.String),
    sa.column("kind", sa.String),
    sa.column("line_id", sa.Integer),
    sa.column("sku", sa.String),
)
_ORDERS = sa.table("orders", sa.column("id", sa.String), sa.column("booking", sa.JSON))


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "license_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("license_number", sa.String(40), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(64), nullable=True),
        sa.Column("eccn", sa.String(20), nullable=True),
        sa.Column("approved_quantity", sa.Integer(), nullable=False),
        sa.Column("approved_value_cents", sa.BigInteger(), nullable=False),
        sa.Column("pooled", sa.Boolean(), nullable=False),
        sa.Column("pooled_skus", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["license_number"], ["licenses.number"], name="license_lines_license_number_fkey"
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("license_number", "line_no", name="uq_license_lines_number_line"),
    )
    op.create_index("ix_license_lines_license_number", "license_lines", ["license_number"])
    with op.batch_alter_table("licenses") as batch:
        batch.add_column(sa.Column("parties", sa.JSON(), nullable=False, server_default="{}"))
    with op.batch_alter_table("license_ledger") as batch:
        batch.add_column(sa.Column("line_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("sku", sa.String(64), nullable=True))
    _migrate_rows(op.get_bind())
    with op.batch_alter_table("license_ledger") as batch:
        batch.alter_column("line_id", existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key(
            "license_ledger_line_id_fkey", "license_lines", ["line_id"], ["id"]
        )
        batch.create_index("ix_license_ledger_line_id", ["line_id"])
    with op.batch_alter_table("licenses") as batch:
        for column in ("consignee", "skus", "approved_quantity", "approved_value_cents"):
            batch.drop_column(column)


def _migrate_rows(conn: sa.Connection) -> None:
    for lic in conn.execute(sa.select(_LICENSES).order_by(_LICENSES.c.number)).mappings():
        skus = sorted(set(lic["skus"] or []))
        single = skus[0] if len(skus) == 1 else None
        line_id = conn.execute(
            _LINES.insert()
            .values(
                license_number=lic["number"],
                line_no=1,
                sku=single,
                eccn=None,
                approved_quantity=lic["approved_quantity"],
                approved_value_cents=lic["approved_value_cents"],
                pooled=single is None,
                pooled_skus=[] if single else skus,
            )
            .returning(_LINES.c.id)
        ).scalar_one()
        conn.execute(
            _LEDGER.update()
            .where(_LEDGER.c.license_number == lic["number"])
            .values(line_id=line_id, sku=single)
        )
        conn.execute(
            _LICENSES.update()
            .where(_LICENSES.c.number == lic["number"])
            .values(parties=_parties(conn, lic))
        )


def _parties(conn: sa.Connection, lic: Any) -> dict[str, Any]:
    """The parties a migrated license names (see the module docstring)."""
    if not lic["licensee"]:
        first = conn.execute(
            sa.select(_ORDERS.c.booking)
            .select_from(_LEDGER.join(_ORDERS, _ORDERS.c.id == _LEDGER.c.order_id))
            .where(_LEDGER.c.license_number == lic["number"], _LEDGER.c.kind == "reserve")
            .order_by(_LEDGER.c.id)
            .limit(1)
        ).scalar()
        if first:
            return _order_parties(first)
    if lic["consignee"] and lic["destination"]:
        return {"ultimate_consignee": {"name": lic["consignee"], "country": lic["destination"]}}
    return {}


def _order_parties(booking: dict[str, Any]) -> dict[str, Any]:
    def party(raw: dict[str, Any]) -> dict[str, Any]:
        keys = ("name", "country", "address", "headquarters_country")
        return {k: raw[k] for k in keys if raw.get(k) is not None}

    end_user = party(booking["end_user"])
    consignee = booking.get("ultimate_consignee")
    return {
        "ultimate_consignee": party(consignee) if consignee else end_user,
        "end_user": end_user,
        "intermediate_consignees": [party(p) for p in booking.get("intermediate_consignees", [])],
    }


def downgrade() -> None:
    """Revert this revision: one pooled quantity per license again."""
    with op.batch_alter_table("licenses") as batch:
        batch.add_column(sa.Column("consignee", sa.String(200), nullable=False, server_default=""))
        batch.add_column(sa.Column("skus", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(
            sa.Column("approved_quantity", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("approved_value_cents", sa.BigInteger(), nullable=False, server_default="0")
        )
    conn = op.get_bind()
    for lic in conn.execute(sa.select(_LICENSES.c.number, _LICENSES.c.parties)).mappings():
        lines = list(
            conn.execute(
                sa.select(_LINES).where(_LINES.c.license_number == lic["number"])
            ).mappings()
        )
        skus = {s for line in lines for s in ([line["sku"]] if line["sku"] else [])}
        skus |= {s for line in lines for s in line["pooled_skus"] or []}
        consignee = (lic["parties"] or {}).get("ultimate_consignee") or {}
        conn.execute(
            _LICENSES.update()
            .where(_LICENSES.c.number == lic["number"])
            .values(
                consignee=consignee.get("name", ""),
                skus=sorted(skus),
                approved_quantity=sum(line["approved_quantity"] for line in lines),
                approved_value_cents=sum(line["approved_value_cents"] for line in lines),
            )
        )
    with op.batch_alter_table("license_ledger") as batch:
        batch.drop_index("ix_license_ledger_line_id")
        batch.drop_constraint("license_ledger_line_id_fkey", type_="foreignkey")
        batch.drop_column("sku")
        batch.drop_column("line_id")
    op.drop_index("ix_license_lines_license_number", table_name="license_lines")
    op.drop_table("license_lines")
    with op.batch_alter_table("licenses") as batch:
        batch.drop_column("parties")
