"""License suspension, reinstatement and revocation: a status per license, its actions.

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-01

Every existing license becomes `active` (nothing was ever suspended). An action is one row
with the progress of its fan-out (`total`, `done`, `finished_at`); its results are one row per
order, unique per action and order, so a batch retried after a crash writes each line once.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, nullable: bool = False) -> sa.Column[sa.DateTime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("licenses") as batch:
        batch.add_column(
            sa.Column("status", sa.String(12), nullable=False, server_default="active")
        )
        batch.add_column(sa.Column("status_reason", sa.Text(), nullable=True))
    op.create_table(
        "license_actions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "license_number", sa.String(40), sa.ForeignKey("licenses.number"), nullable=False
        ),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        _ts("requested_at"),
        sa.Column("total", sa.Integer, nullable=True),
        sa.Column("done", sa.Integer, nullable=False),
        _ts("finished_at", nullable=True),
        sa.Column("workflow_started", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_license_actions_license_number", "license_actions", ["license_number"])
    op.create_table(
        "license_action_results",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("action_id", sa.Integer, sa.ForeignKey("license_actions.id"), nullable=False),
        sa.Column("order_id", sa.String(40), nullable=False),
        sa.Column("outcome", sa.String(40), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        _ts("at"),
        sa.UniqueConstraint("action_id", "order_id", name="uq_license_action_results_order"),
    )
    op.create_index(
        "ix_license_action_results_action_id", "license_action_results", ["action_id"]
    )


def downgrade() -> None:
    """Revert this revision (the actions and statuses are lost)."""
    op.drop_table("license_action_results")
    op.drop_table("license_actions")
    with op.batch_alter_table("licenses") as batch:
        batch.drop_column("status_reason")
        batch.drop_column("status")
